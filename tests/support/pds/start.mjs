// Start an in-memory PLC directory and a Bluesky PDS on 127.0.0.1, for Staffetta's tests.
//
//   node start.mjs <data folder>
//
// Prints one JSON line {"pds": url, "plc": url, "admin_password": ...} once both listen, then
// serves until it gets SIGTERM or SIGINT (or its stdin closes, so a killed test run never leaves
// it behind). Everything the PDS writes goes under <data folder>. Both servers' start() listen on
// every interface; app.listen is wrapped so they bind loopback only.
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import { Secp256k1Keypair } from '@atproto/crypto'
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'
import plcServer from '@did-plc/server'

const { PlcServer, Database } = plcServer
const HOST = '127.0.0.1'

function loopbackOnly(app) {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, HOST, ...rest)
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function main() {
  const dataDir = path.resolve(process.argv[2] || fs.mkdtempSync('/tmp/staffetta-pds-'))
  fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true })
  const plcPort = await freePort()
  const pdsPort = await freePort()

  const plc = PlcServer.create({ db: Database.mock(), port: plcPort })
  loopbackOnly(plc.app)
  await plc.start()

  const rotationKey = await Secp256k1Keypair.create({ exportable: true })
  const adminPassword = crypto.randomBytes(12).toString('hex')
  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(pdsPort),
    PDS_DEV_MODE: 'true',
    PDS_INVITE_REQUIRED: 'false',
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    PDS_DID_PLC_URL: `http://${HOST}:${plcPort}`,
    // The test helper passes its own secret so it can sign an expired token for a test.
    PDS_JWT_SECRET:
      process.env.STAFFETTA_PDS_JWT_SECRET || crypto.randomBytes(16).toString('hex'),
    PDS_ADMIN_PASSWORD: adminPassword,
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: Buffer.from(
      await rotationKey.export(),
    ).toString('hex'),
    LOG_ENABLED: process.env.LOG_ENABLED || 'false',
  })
  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  loopbackOnly(pds.app)
  await pds.start()

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await Promise.allSettled([pds.destroy(), plc.destroy()])
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.resume()

  process.stdout.write(
    JSON.stringify({
      pds: `http://localhost:${pdsPort}`,
      pds_loopback: `http://${HOST}:${pdsPort}`,
      plc: `http://${HOST}:${plcPort}`,
      admin_password: adminPassword,
      pid: process.pid,
    }) + '\n',
  )
}

main().catch((err) => {
  process.stderr.write(`start.mjs: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
