<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="it">
<context>
    <name>AboutDialog</name>
    <message>
        <location filename="../../desktop/staffetta/ui/about.py" line="+18"/>
        <source>About Staffetta</source>
        <translation>Informazioni su Staffetta</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Write once, see how your post looks on every channel, and let Staffetta deliver it — also through platform outages, without duplicates.</source>
        <translation>Scrivi una volta, guarda come apparirà il tuo post su ogni canale e lascia che Staffetta lo consegni — anche quando una piattaforma non funziona, senza duplicati.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Your outbox is kept on this computer, in {folder}.</source>
        <translation>La tua posta in uscita è conservata su questo computer, in {folder}.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Free software under the GNU GPL, version 3 or later. Qt {version}.</source>
        <translation>Software libero con licenza GNU GPL, versione 3 o successiva. Qt {version}.</translation>
    </message>
</context>
<context>
    <name>AccountDialog</name>
    <message>
        <location filename="../../desktop/staffetta/ui/account_dialog.py" line="+95"/>
        <source>Add a {channel} account</source>
        <translation>Aggiungi un account {channel}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reconnect {name}</source>
        <translation>Ricollega {name}</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Message</source>
        <translation>Messaggio</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;Connect</source>
        <translation>&amp;Collega</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Sign in with your browser</source>
        <translation>&amp;Accedi con il browser</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&amp;Connect with this token</source>
        <translation>&amp;Collega con questo token</translation>
    </message>
    <message>
        <location line="+127"/>
        <source>{reason}

Connect it again; the posts waiting for it go out as soon as it works.</source>
        <translation>{reason}

Collegalo di nuovo: i post in attesa partiranno appena funziona.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Give this account new credentials.</source>
        <translation>Fornisci nuove credenziali per questo account.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Fill in what is asked, then choose “Sign in with your browser”: your browser opens a page where you allow Staffetta to post, and you come back here.</source>
        <translation>Compila i campi richiesti, poi scegli «Accedi con il browser»: il browser apre una pagina in cui autorizzi Staffetta a pubblicare, poi torni qui.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No system keyring is available</source>
        <translation>Nessun portachiavi di sistema disponibile</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>How to fix it</source>
        <translation>Come risolvere</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Try again</source>
        <translation>&amp;Riprova</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Shown in Staffetta next to this account. Leave it empty to use the name the platform gives.</source>
        <translation>Mostrato in Staffetta accanto a questo account. Lascialo vuoto per usare il nome fornito dalla piattaforma.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Name</source>
        <translation>&amp;Nome</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>{label} (required)</source>
        <translation>{label} (obbligatorio)</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Choose…</source>
        <translation>Scegli…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a folder for {label}</source>
        <translation>Scegli una cartella per «{label}»</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Working</source>
        <translation>In corso</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Progress</source>
        <translation>Avanzamento</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Open the page again</source>
        <translation>&amp;Riapri la pagina</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cancel sign-&amp;in</source>
        <translation>Annulla l&apos;a&amp;ccesso</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Close</source>
        <translation>Chiudi</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Checking the system keyring…</source>
        <translation>Verifica del portachiavi di sistema…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Checking with {channel}…</source>
        <translation>Verifica con {channel}…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Opening your browser…</source>
        <translation>Apertura del browser…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancelling the sign-in…</source>
        <translation>Annullamento dell&apos;accesso…</translation>
    </message>
    <message>
        <location line="+53"/>
        <source>Fill this in to connect the account.</source>
        <translation>Compila questo campo per collegare l&apos;account.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Paste a token here, or use “Sign in with your browser”.</source>
        <translation>Incolla qui un token, oppure usa «Accedi con il browser».</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Staffetta keeps passwords and tokens only in your system keyring, never in a file, and it cannot use one on this computer right now. Nothing was saved.</source>
        <translation>Staffetta conserva password e token solo nel portachiavi di sistema, mai in un file, e al momento non riesce a usarne uno su questo computer. Non è stato salvato nulla.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Channels that need no password, like a site folder, work without it.</source>
        <translation>I canali che non richiedono una password, come una cartella del sito, funzionano anche senza.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Details: {text}</source>
        <translation>Dettagli: {text}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Waiting for you to approve in the browser…</source>
        <translation>In attesa della tua autorizzazione nel browser…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Choose a folder</source>
        <translation>Scegli una cartella</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Sign-in cancelled. Nothing was saved.</source>
        <translation>Accesso annullato. Non è stato salvato nulla.</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Something unexpected went wrong ({kind}). Nothing was saved; please try again.</source>
        <translation>Si è verificato un problema imprevisto ({kind}). Non è stato salvato nulla; riprova.</translation>
    </message>
</context>
<context>
    <name>AccountRow</name>
    <message>
        <location filename="../../desktop/staffetta/ui/channel_picker.py" line="+46"/>
        <source>{name} on {platform} ({handle})</source>
        <translation>{name} su {platform} ({handle})</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{platform}: {handle}</source>
        <translation>{platform}: {handle}</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Needs reconnecting: posts will wait</source>
        <translation>Da ricollegare: i post aspetteranno</translation>
    </message>
    <message>
        <location line="-18"/>
        <location line="+33"/>
        <source>Customise</source>
        <translation>Personalizza</translation>
    </message>
    <message>
        <location line="-32"/>
        <source>Give this account its own text</source>
        <translation>Dai a questo account un testo tutto suo</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Customise the text for {name}</source>
        <translation>Personalizza il testo per {name}</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Custom text</source>
        <translation>Testo personalizzato</translation>
    </message>
</context>
<context>
    <name>AccountsPage</name>
    <message>
        <location filename="../../desktop/staffetta/ui/accounts.py" line="+76"/>
        <source>Accounts</source>
        <translation>Account</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Where your posts go. Passwords and tokens are kept in your system keyring, never in Staffetta&apos;s files.</source>
        <translation>Dove vanno i tuoi post. Password e token sono conservati nel portachiavi di sistema, mai nei file di Staffetta.</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Handle</source>
        <translation>Nome utente</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Channel</source>
        <translation>Canale</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Connected accounts</source>
        <translation>Account collegati</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>No accounts yet. Start with a place of your own, such as your site or newsletter: it stays yours whatever happens to the platforms.</source>
        <translation>Ancora nessun account. Inizia da uno spazio tutto tuo, come il tuo sito o la tua newsletter: resta tuo qualunque cosa succeda alle piattaforme.</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>About the selected account</source>
        <translation>Informazioni sull&apos;account selezionato</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Result</source>
        <translation>Risultato</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Add account…</source>
        <translation>&amp;Aggiungi account…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Test connection</source>
        <translation>&amp;Prova la connessione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Reconnect…</source>
        <translation>&amp;Ricollega…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re&amp;move…</source>
        <translation>Ri&amp;muovi…</translation>
    </message>
    <message>
        <location line="+75"/>
        <source>Unknown channel</source>
        <translation>Canale sconosciuto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This version of Staffetta does not know the channel &apos;{channel}&apos;.</source>
        <translation>Questa versione di Staffetta non conosce il canale «{channel}».</translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>Needs reconnecting, %n post(s) waiting: {reason}</source>
        <translation>
            <numerusform>Da ricollegare, %n post in attesa: {reason}</numerusform>
            <numerusform>Da ricollegare, %n post in attesa: {reason}</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Needs reconnecting: {reason}</source>
        <translation>Da ricollegare: {reason}</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>{platform} down since {time}</source>
        <translation>{platform} fuori servizio dalle {time}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>Testing {name}…</source>
        <translation>Prova di {name}…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{name}: connected as {handle}.</source>
        <translation>{name}: collegato come {handle}.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{name}: {problem}</source>
        <translation>{name}: {problem}</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Remove account</source>
        <translation>Rimuovi account</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove {name}?</source>
        <translation>Rimuovere {name}?</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Staffetta forgets this account and deletes its password or token from your system keyring. What was already published stays where it is.</source>
        <translation>Staffetta dimentica questo account ed elimina la sua password o il suo token dal portachiavi di sistema. Ciò che è già stato pubblicato resta dov&apos;è.</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>%n post(s) not yet sent to it will be cancelled.</source>
        <translation>
            <numerusform>%n post non ancora inviato a questo account sarà annullato.</numerusform>
            <numerusform>%n post non ancora inviati a questo account saranno annullati.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Remove</source>
        <translation>&amp;Rimuovi</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>{name}, {channel} {handle}, {status}</source>
        <translation>{name}, {channel} {handle}, {status}</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>Choose Reconnect… to sign in again; the posts waiting for it go out as soon as it works.</source>
        <translation>Scegli Ricollega… per accedere di nuovo: i post in attesa partiranno appena funziona.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Its posts wait and go out by themselves when it is back.</source>
        <translation>I suoi post aspettano e partono da soli quando torna disponibile.</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>{name} is connected as {handle}.</source>
        <translation>{name} è collegato come {handle}.</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Removed {name}; its keyring entry is deleted.</source>
        <translation>{name} rimosso; la sua voce nel portachiavi è stata eliminata.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{name} was not removed: {problem}</source>
        <translation>{name} non è stato rimosso: {problem}</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>something unexpected went wrong ({kind})</source>
        <translation>si è verificato un problema imprevisto ({kind})</translation>
    </message>
</context>
<context>
    <name>ChannelChooser</name>
    <message>
        <location filename="../../desktop/staffetta/ui/channel_chooser.py" line="+35"/>
        <source>Your own channels: site, blog, newsletter</source>
        <translation>I tuoi canali: sito, blog, newsletter</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Social networks</source>
        <translation>Social network</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>A folder on this computer. No account and no internet needed.</source>
        <translation>Una cartella su questo computer. Non servono account né connessione a internet.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Sign in with your browser.</source>
        <translation>Accedi con il browser.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Connect with your {what}.</source>
        <translation>Collegati con {what}.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Connect with the address of your account.</source>
        <translation>Collegati con l&apos;indirizzo del tuo account.</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Add an account</source>
        <translation>Aggiungi un account</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Channels</source>
        <translation>Canali</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show &amp;all channels</source>
        <translation>Mostra &amp;tutti i canali</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Continue…</source>
        <translation>&amp;Continua…</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>A place of your own keeps your readers when a platform goes down. Choose your site, blog or newsletter:</source>
        <translation>Uno spazio tutto tuo ti fa restare in contatto con chi ti legge quando una piattaforma non funziona. Scegli il tuo sito, blog o newsletter:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Where do you want to publish? Choose a channel:</source>
        <translation>Dove vuoi pubblicare? Scegli un canale:</translation>
    </message>
</context>
<context>
    <name>ChannelPicker</name>
    <message>
        <location filename="../../desktop/staffetta/ui/channel_picker.py" line="+19"/>
        <source>Publish to</source>
        <translation>Pubblica su</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>No accounts yet. Start with your own site or newsletter.</source>
        <translation>Ancora nessun account. Inizia dal tuo sito o dalla tua newsletter.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Add an a&amp;ccount…</source>
        <translation>Aggiungi un a&amp;ccount…</translation>
    </message>
    <message>
        <location line="+103"/>
        <source>Owned — your site and newsletters</source>
        <translation>Tuoi — il tuo sito e le tue newsletter</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Social — platforms you post on</source>
        <translation>Social — le piattaforme su cui pubblichi</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>This version of Staffetta does not know {platform}</source>
        <translation>Questa versione di Staffetta non conosce {platform}</translation>
    </message>
</context>
<context>
    <name>Channels</name>
    <message>
        <location filename="../../build/i18n/channel_texts.py" line="+6"/>
        <source>characters</source>
        <translation>caratteri</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>Static site folder</source>
        <translation>Cartella del sito statico</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Content folder</source>
        <translation>Cartella dei contenuti</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The folder your site&apos;s posts live in: content/posts (Hugo), _posts (Jekyll), posts (Eleventy).</source>
        <translation>La cartella in cui si trovano i post del tuo sito: content/posts (Hugo), _posts (Jekyll), posts (Eleventy).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Site generator</source>
        <translation>Generatore del sito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>hugo, jekyll or eleventy: decides file names and where images go.</source>
        <translation>hugo, jekyll o eleventy: decide i nomi dei file e dove vanno le immagini.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images subfolder</source>
        <translation>Sottocartella delle immagini</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional. Hugo/Eleventy: a folder inside each post&apos;s folder (e.g. images). Jekyll: a folder of the site (default assets/images).</source>
        <translation>Facoltativo. Hugo/Eleventy: una cartella dentro la cartella di ogni post (ad esempio images). Jekyll: una cartella del sito (predefinita assets/images).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Address of the posts</source>
        <translation>Indirizzo dei post</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional, e.g. https://example.com/posts/ — the slug is added at the end, or use {slug}, {year}, {month}, {day} to place it.</source>
        <translation>Facoltativo, ad esempio https://example.com/posts/ — lo slug viene aggiunto in fondo, oppure usa {slug}, {year}, {month}, {day} per collocarlo.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mastodon</source>
        <translation>Mastodon</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Server</source>
        <translation>Server</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your Mastodon server&apos;s address, the part after the second @ of your handle (for example mastodon.social).</source>
        <translation>L&apos;indirizzo del tuo server Mastodon, la parte dopo la seconda @ del tuo nome utente (ad esempio mastodon.social).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Handle</source>
        <translation>Nome utente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Filled in when you connect, like @you@mastodon.social.</source>
        <translation>Compilato quando ti colleghi, ad esempio @tu@mastodon.social.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Access token</source>
        <translation>Token di accesso</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional. Leave empty to sign in through your browser; or paste a token from Preferences → Development on your server (scopes: read, write).</source>
        <translation>Facoltativo. Lascia vuoto per accedere con il browser, oppure incolla un token da Preferenze → Sviluppo sul tuo server (permessi: read, write).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bluesky</source>
        <translation>Bluesky</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your Bluesky handle, like alice.bsky.social (or your own domain), or your DID.</source>
        <translation>Il tuo nome utente Bluesky, ad esempio alice.bsky.social (o il tuo dominio), oppure il tuo DID.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>App password</source>
        <translation>Password per le app</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Create one in Bluesky under Settings → Privacy and security → App passwords. It is kept in your system&apos;s keyring.</source>
        <translation>Creane una in Bluesky in Impostazioni → Privacy e sicurezza → Password per le app. Viene conservata nel portachiavi di sistema.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Link card</source>
        <translation>Scheda del link</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>“on” to show a card (title, description, picture) for the post&apos;s link; “off” for the link alone.</source>
        <translation>«on» per mostrare una scheda (titolo, descrizione, immagine) per il link del post; «off» per il solo link.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Language</source>
        <translation>Lingua</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The language the posts are written in (like en or it), for people&apos;s feeds.</source>
        <translation>La lingua in cui sono scritti i post (ad esempio it o en), per i feed delle persone.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Handle resolver</source>
        <translation>Risolutore dei nomi utente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Advanced: the server that resolves handles (default https://bsky.social).</source>
        <translation>Avanzato: il server che risolve i nomi utente (predefinito https://bsky.social).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PLC directory</source>
        <translation>Directory PLC</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Advanced: where did:plc accounts are looked up (default https://plc.directory).</source>
        <translation>Avanzato: dove si cercano gli account did:plc (predefinito https://plc.directory).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Telegram</source>
        <translation>Telegram</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Channel</source>
        <translation>Canale</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The channel&apos;s public name, like @mychannel, or for a private channel its numeric id, like -1001234567890.</source>
        <translation>Il nome pubblico del canale, ad esempio @miocanale, oppure, per un canale privato, il suo id numerico, ad esempio -1001234567890.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bot token</source>
        <translation>Token del bot</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Create a bot with @BotFather (/newbot) and paste the token it gives you. Then add the bot to your channel as an administrator allowed to post messages.</source>
        <translation>Crea un bot con @BotFather (/newbot) e incolla il token che ti fornisce. Poi aggiungi il bot al tuo canale come amministratore autorizzato a pubblicare messaggi.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Link previews</source>
        <translation>Anteprime dei link</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>on or off: show a preview card under posts that contain a link.</source>
        <translation>on o off: mostra una scheda di anteprima sotto i post che contengono un link.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bot API server</source>
        <translation>Server della Bot API</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty. Only for a local Bot API server or the Staffetta sandbox.</source>
        <translation>Lascia vuoto. Serve solo per un server Bot API locale o per la sandbox di Staffetta.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Discord</source>
        <translation>Discord</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Webhook URL</source>
        <translation>URL del webhook</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>In Discord: the channel&apos;s settings › Integrations › Webhooks › New Webhook › Copy Webhook URL. Keep it private: anyone with it can post in the channel.</source>
        <translation>In Discord: impostazioni del canale › Integrazioni › Webhook › Nuovo webhook › Copia URL webhook. Tienilo riservato: chiunque lo abbia può pubblicare nel canale.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>on or off: show the post&apos;s link as a card (title, description, picture).</source>
        <translation>on o off: mostra il link del post come scheda (titolo, descrizione, immagine).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty. Only for the Staffetta sandbox on this computer.</source>
        <translation>Lascia vuoto. Serve solo per la sandbox di Staffetta su questo computer.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>WordPress</source>
        <translation>WordPress</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Site address</source>
        <translation>Indirizzo del sito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your WordPress site, for example https://example.org (https is needed for application passwords).</source>
        <translation>Il tuo sito WordPress, ad esempio https://example.org (per le password per le applicazioni serve https).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>User name</source>
        <translation>Nome utente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The name you log in to WordPress with. Filled in when you sign in with the browser.</source>
        <translation>Il nome con cui accedi a WordPress. Compilato quando accedi con il browser.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Application password</source>
        <translation>Password per le applicazioni</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional. Leave empty to approve Staffetta in your browser; or create one in WordPress under Users → Profile → Application Passwords and paste it here.</source>
        <translation>Facoltativo. Lascia vuoto per autorizzare Staffetta nel browser, oppure creane una in WordPress in Utenti → Profilo → Password per le applicazioni e incollala qui.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Publish as</source>
        <translation>Pubblica come</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>publish (visible at once) or draft (waits in WordPress for you to publish it).</source>
        <translation>publish (visibile subito) o draft (aspetta in WordPress che tu lo pubblichi).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Category</source>
        <translation>Categoria</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional. A category every post goes into (created if the site has none by that name); otherwise WordPress uses its own default.</source>
        <translation>Facoltativo. Una categoria in cui va ogni post (creata se il sito non ne ha una con quel nome); altrimenti WordPress usa la propria predefinita.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ghost</source>
        <translation>Ghost</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your Ghost site, for example https://example.org (the API URL Ghost shows next to the key).</source>
        <translation>Il tuo sito Ghost, ad esempio https://example.org (l&apos;API URL che Ghost mostra accanto alla chiave).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Admin API key</source>
        <translation>Chiave Admin API</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>In Ghost Admin: Settings → Integrations → Add custom integration, then copy its Admin API key (two parts joined by a colon).</source>
        <translation>In Ghost Admin: Settings → Integrations → Add custom integration, poi copia la sua Admin API key (due parti unite da due punti).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>published (visible at once) or draft (waits in Ghost for you to publish it).</source>
        <translation>published (visibile subito) o draft (aspetta in Ghost che tu lo pubblichi).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Email to newsletter</source>
        <translation>Invio alla newsletter</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional, and only if you mean it: an email cannot be unsent. The slug of one of your Ghost newsletters (Settings → Newsletters, e.g. default-newsletter); each post is then emailed to its subscribers as it is published. Empty = never email.</source>
        <translation>Facoltativo, e solo se sei sicuro: un&apos;e-mail non si può annullare. Lo slug di una delle tue newsletter Ghost (Settings → Newsletters, ad esempio default-newsletter); ogni post viene poi inviato per e-mail ai suoi iscritti quando è pubblicato. Vuoto = nessuna e-mail.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Email recipients</source>
        <translation>Destinatari dell&apos;e-mail</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Who gets the email when a newsletter is set: all, status:free (free members), status:-free (paying members) or another Ghost member filter.</source>
        <translation>Chi riceve l&apos;e-mail quando è impostata una newsletter: all, status:free (membri gratuiti), status:-free (membri paganti) o un altro filtro dei membri di Ghost.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Micropub site</source>
        <translation>Sito Micropub</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your site</source>
        <translation>Il tuo sito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The address of your site, for example https://example.org or https://you.micro.blog. Staffetta finds its Micropub endpoint there.</source>
        <translation>L&apos;indirizzo del tuo sito, ad esempio https://example.org o https://tu.micro.blog. Staffetta vi trova il suo endpoint Micropub.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional. Leave empty to sign in through your browser (IndieAuth); or paste an app token from your site (Micro.blog: Account → Edit Apps).</source>
        <translation>Facoltativo. Lascia vuoto per accedere con il browser (IndieAuth), oppure incolla un token per app del tuo sito (Micro.blog: Account → Edit Apps).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Address of a post</source>
        <translation>Indirizzo di un post</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional, for finding a post after a lost connection: how your site names posts, with {slug}, {year}, {month}, {day}, e.g. https://example.org/{year}/{month}/{slug}.</source>
        <translation>Facoltativo, per ritrovare un post dopo una connessione persa: come il tuo sito chiama i post, con {slug}, {year}, {month}, {day}, ad esempio https://example.org/{year}/{month}/{slug}.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>E-mail (SMTP)</source>
        <translation>E-mail (SMTP)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Send each post as an e-mail to your readers, through your own mail provider.</source>
        <translation>Invia ogni post come e-mail ai tuoi lettori, tramite il tuo fornitore di posta.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mail server</source>
        <translation>Server di posta</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your provider&apos;s SMTP server, e.g. smtp.fastmail.com.</source>
        <translation>Il server SMTP del tuo fornitore, ad esempio smtp.fastmail.com.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Security</source>
        <translation>Sicurezza</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>starttls (usually port 587) or tls (usually port 465). none is only allowed for a server on this computer.</source>
        <translation>starttls (di solito porta 587) o tls (di solito porta 465). none è ammesso solo per un server su questo computer.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Port</source>
        <translation>Porta</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty for the usual port: 587 with starttls, 465 with tls.</source>
        <translation>Lascia vuoto per la porta abituale: 587 con starttls, 465 con tls.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Usually your e-mail address. Leave empty if the server needs no sign-in.</source>
        <translation>Di solito il tuo indirizzo e-mail. Lascia vuoto se il server non richiede l&apos;accesso.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your mail password or an app password made for Staffetta. Kept in the system keyring.</source>
        <translation>La password della tua posta o una password per app creata per Staffetta. Conservata nel portachiavi di sistema.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From</source>
        <translation>Mittente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Who the e-mail is from, e.g. Jane Doe &lt;jane@example.com&gt;.</source>
        <translation>Da chi arriva l&apos;e-mail, ad esempio Giulia Rossi &lt;giulia@example.com&gt;.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Readers</source>
        <translation>Lettori</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your readers&apos; e-mail addresses, separated by commas.</source>
        <translation>Gli indirizzi e-mail dei tuoi lettori, separati da virgole.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Addressing</source>
        <translation>Destinatari</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>separately: every reader gets a copy addressed to them alone. bcc: one e-mail to the address below, with every reader in Bcc.</source>
        <translation>separately: ogni lettore riceve una copia indirizzata solo a lui. bcc: un&apos;unica e-mail all&apos;indirizzo qui sotto, con tutti i lettori in Ccn.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>To (bcc)</source>
        <translation>A (bcc)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>With bcc: the address shown in To. Empty: the From address.</source>
        <translation>Con bcc: l&apos;indirizzo mostrato in A. Vuoto: l&apos;indirizzo del mittente.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Unsubscribe link</source>
        <translation>Link per disiscriversi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional. A mailto: or https:// address where readers can unsubscribe; sent as a List-Unsubscribe header and a link at the bottom.</source>
        <translation>Facoltativo. Un indirizzo mailto: o https:// dove chi legge può disiscriversi; inviato come intestazione List-Unsubscribe e come link in fondo.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Certificate authority</source>
        <translation>Autorità di certificazione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional. A PEM file with your own certificate authority, for a server whose certificate it signed. Certificates are always checked.</source>
        <translation>Facoltativo. Un file PEM con la tua autorità di certificazione, per un server il cui certificato è firmato da essa. I certificati vengono sempre verificati.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Buttondown</source>
        <translation>Buttondown</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Each post as a Buttondown newsletter: kept as a draft, or sent to your subscribers.</source>
        <translation>Ogni post come newsletter di Buttondown: conservato come bozza oppure inviato ai tuoi iscritti.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API key</source>
        <translation>Chiave API</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From buttondown.com/keys. It needs e-mail access; to send e-mails, sending access too. Kept in the system keyring.</source>
        <translation>Da buttondown.com/keys. Serve l&apos;accesso alle e-mail; per spedirle, anche l&apos;accesso all&apos;invio. Conservata nel portachiavi di sistema.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>When a post arrives</source>
        <translation>Quando arriva un post</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>draft: it waits in Buttondown until you send it. about_to_send: Buttondown e-mails it to your subscribers at once — an e-mail cannot be unsent.</source>
        <translation>draft: aspetta in Buttondown finché non lo invii. about_to_send: Buttondown lo manda subito per e-mail ai tuoi iscritti — un&apos;e-mail non si può annullare.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API address</source>
        <translation>Indirizzo dell&apos;API</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty for Buttondown itself.</source>
        <translation>Lascia vuoto per usare Buttondown stesso.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Listmonk</source>
        <translation>Listmonk</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Each post as a campaign on your own Listmonk server, to the lists you choose.</source>
        <translation>Ogni post come campagna sul tuo server Listmonk, alle liste che scegli.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Listmonk address</source>
        <translation>Indirizzo di Listmonk</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Where your Listmonk runs, e.g. lists.example.org.</source>
        <translation>Dove gira il tuo Listmonk, ad esempio lists.example.org.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API user</source>
        <translation>Utente API</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>An API user made in Listmonk under Admin → Users, allowed to manage campaigns and media.</source>
        <translation>Un utente API creato in Listmonk in Admin → Users, autorizzato a gestire campagne e media.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API token</source>
        <translation>Token API</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The token Listmonk showed when you made the API user. Kept in the system keyring.</source>
        <translation>Il token che Listmonk ha mostrato quando hai creato l&apos;utente API. Conservato nel portachiavi di sistema.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lists</source>
        <translation>Liste</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The ids of the lists to send to, separated by commas (the Lists page shows them).</source>
        <translation>Gli id delle liste a cui inviare, separati da virgole (li mostra la pagina Lists).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>draft: the campaign waits in Listmonk until you start it. running: Listmonk starts e-mailing your lists at once — an e-mail cannot be unsent.</source>
        <translation>draft: la campagna aspetta in Listmonk finché non la avvii. running: Listmonk inizia subito a inviare e-mail alle tue liste — un&apos;e-mail non si può annullare.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Format</source>
        <translation>Formato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>markdown (Listmonk renders the post) or html (Staffetta renders it).</source>
        <translation>markdown (il post lo impagina Listmonk) o html (lo impagina Staffetta).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optional, e.g. Jane &lt;news@example.org&gt;. Empty: Listmonk&apos;s own setting.</source>
        <translation>Facoltativo, ad esempio Giulia &lt;news@example.org&gt;. Vuoto: l&apos;impostazione di Listmonk.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Instagram</source>
        <translation>Instagram</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A professional Instagram account, through your own Meta app. Sign in with your browser.</source>
        <translation>Un account Instagram professionale, tramite la tua app Meta. Accedi con il browser.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Instagram app id</source>
        <translation>ID dell&apos;app Instagram</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Instagram posts through your own Meta app. At https://developers.facebook.com/apps create a Business app, add the Instagram product and open “API setup with Instagram login”: copy the Instagram app id and secret, add the permissions instagram_business_basic and instagram_business_content_publish, and register the sign-in address below under Business login settings. Your Instagram account must be a professional one (Business or Creator).</source>
        <translation>I post per Instagram passano dalla tua app Meta. Su https://developers.facebook.com/apps crea un&apos;app di tipo Business, aggiungi il prodotto Instagram e apri «API setup with Instagram login»: copia l&apos;ID e la chiave segreta dell&apos;app Instagram, aggiungi le autorizzazioni instagram_business_basic e instagram_business_content_publish e registra l&apos;indirizzo di accesso qui sotto in Business login settings. Il tuo account Instagram deve essere professionale (Business o Creator).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>App secret</source>
        <translation>Chiave segreta dell&apos;app</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From the same page as the app id. Meta needs it to turn a sign-in into a token that lasts 60 days; Staffetta keeps it in your system keyring with the tokens.</source>
        <translation>Dalla stessa pagina dell&apos;ID dell&apos;app. Meta ne ha bisogno per trasformare un accesso in un token valido 60 giorni; Staffetta la conserva nel portachiavi di sistema insieme ai token.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sign-in address</source>
        <translation>Indirizzo di accesso</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Register this exact address as a valid OAuth redirect URI in your app. Leave empty for http://localhost:8765/callback; change the port if another program uses it.</source>
        <translation>Registra esattamente questo indirizzo nella tua app come URI di reindirizzamento OAuth valido. Lascia vuoto per usare http://localhost:8765/callback; cambia la porta se la usa già un altro programma.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Public image folder</source>
        <translation>Cartella pubblica delle immagini</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A folder on this computer that your website or file host publishes (for example your site&apos;s static folder, synced or deployed). Meta downloads images from a public web address, so Staffetta puts each picture there. Not needed for posts without images.</source>
        <translation>Una cartella su questo computer che il tuo sito o il tuo servizio di hosting pubblica online (ad esempio la cartella static del tuo sito, sincronizzata o caricata). Meta scarica le immagini da un indirizzo web pubblico, quindi Staffetta mette lì ogni immagine. Non serve per i post senza immagini.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Public image address</source>
        <translation>Indirizzo pubblico delle immagini</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The https:// address at which that folder can be seen from the internet, like https://example.org/staffetta-images.</source>
        <translation>L&apos;indirizzo https:// a cui quella cartella è visibile da internet, ad esempio https://example.org/staffetta-images.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Image fit</source>
        <translation>Adattamento delle immagini</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>pad or crop: how a picture taller than 4:5 or wider than 1.91:1 is made to fit Instagram — with white bars, or cropped around its centre.</source>
        <translation>pad o crop: come un&apos;immagine più alta di 4:5 o più larga di 1,91:1 viene adattata a Instagram — con bande bianche, oppure ritagliata attorno al centro.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Meta API server</source>
        <translation>Server dell&apos;API di Meta</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty. Only for the Staffetta sandbox.</source>
        <translation>Lascia vuoto. Serve solo per la sandbox di Staffetta.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Facebook Page</source>
        <translation>Pagina Facebook</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A Facebook Page you manage, through your own Meta app.</source>
        <translation>Una Pagina Facebook che gestisci, tramite la tua app Meta.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Meta app id</source>
        <translation>ID dell&apos;app Meta</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Facebook Pages post through your own Meta app. At https://developers.facebook.com/apps create a Business app with Facebook Login for Business; copy its app id and secret (App settings › Basic), add the permissions pages_show_list, pages_read_engagement and pages_manage_posts, and register the sign-in address below as a valid OAuth redirect URI.</source>
        <translation>I post per le Pagine Facebook passano dalla tua app Meta. Su https://developers.facebook.com/apps crea un&apos;app di tipo Business con Facebook Login for Business; copia il suo ID e la sua chiave segreta (App settings › Basic), aggiungi le autorizzazioni pages_show_list, pages_read_engagement e pages_manage_posts e registra l&apos;indirizzo di accesso qui sotto come URI di reindirizzamento OAuth valido.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Page</source>
        <translation>Pagina</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The name or id of the Page to post to. Leave empty if you manage only one Page.</source>
        <translation>Il nome o l&apos;ID della Pagina su cui pubblicare. Lascia vuoto se gestisci una sola Pagina.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Threads</source>
        <translation>Threads</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your Threads profile, through your own Meta app.</source>
        <translation>Il tuo profilo Threads, tramite la tua app Meta.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Threads app id</source>
        <translation>ID dell&apos;app Threads</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Threads posts through your own Meta app. At https://developers.facebook.com/apps create an app with the “Access the Threads API” use case; in its settings copy the Threads app id and Threads app secret, add the permissions threads_basic and threads_content_publish, register the sign-in address below as a redirect callback URL, and add your Threads account as a tester.</source>
        <translation>I post per Threads passano dalla tua app Meta. Su https://developers.facebook.com/apps crea un&apos;app con il caso d&apos;uso «Access the Threads API»; nelle sue impostazioni copia l&apos;ID e la chiave segreta dell&apos;app Threads, aggiungi le autorizzazioni threads_basic e threads_content_publish, registra l&apos;indirizzo di accesso qui sotto come URL di callback per il reindirizzamento e aggiungi il tuo account Threads come tester.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>X</source>
        <translation>X</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>characters (X&apos;s count)</source>
        <translation>caratteri (conteggio di X)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Client ID</source>
        <translation>Client ID</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>X lets only registered apps post, so you use your own (free) one: on developer.x.com create a Project and an App; under User authentication settings turn on OAuth 2.0, choose “Native App” as the type and “Read and write” as the permissions, and add the callback URL http://127.0.0.1:8765/callback (or the sign-in address below). Then copy the OAuth 2.0 Client ID from Keys and tokens. Staffetta asks for tweet.read, tweet.write, users.read, media.write and offline.access (which keeps you signed in).</source>
        <translation>X lascia pubblicare solo le app registrate, quindi usi la tua (gratuita): su developer.x.com crea un Project e un&apos;App; in User authentication settings attiva OAuth 2.0, scegli «Native App» come tipo e «Read and write» come permessi, e aggiungi l&apos;URL di callback http://127.0.0.1:8765/callback (o l&apos;indirizzo di accesso qui sotto). Poi copia l&apos;OAuth 2.0 Client ID da Keys and tokens. Staffetta chiede tweet.read, tweet.write, users.read, media.write e offline.access (che ti mantiene connesso).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Client secret</source>
        <translation>Client secret</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty for a “Native App”. Only apps of the types “Web App, Automated App or Bot” have one (Keys and tokens → OAuth 2.0 Client Secret); it is kept in the system keyring.</source>
        <translation>Lascia vuoto per una «Native App». Ce l&apos;hanno solo le app di tipo «Web App, Automated App or Bot» (Keys and tokens → OAuth 2.0 Client Secret); viene conservato nel portachiavi di sistema.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty to use http://127.0.0.1:8765/callback. It must be exactly the callback URL registered in your app; Staffetta listens there only while you sign in.</source>
        <translation>Lascia vuoto per usare http://127.0.0.1:8765/callback. Deve essere esattamente l&apos;URL di callback registrato nella tua app; Staffetta resta in ascolto lì solo mentre accedi.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Filled in when you connect, like @you.</source>
        <translation>Compilato quando ti colleghi, ad esempio @tu.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API server</source>
        <translation>Server dell&apos;API</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LinkedIn</source>
        <translation>LinkedIn</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LinkedIn lets only registered apps post, so you use your own: on linkedin.com/developers create an app (it must be linked to a LinkedIn page; yours, or a placeholder), add the products “Share on LinkedIn” and “Sign In with LinkedIn using OpenID Connect”, and in the Auth tab add http://127.0.0.1:8765/callback (or the sign-in address below) as an Authorized redirect URL. Copy the Client ID here and the Client Secret below. Staffetta asks for openid, profile and w_member_social (w_organization_social to post as a page).</source>
        <translation>LinkedIn lascia pubblicare solo le app registrate, quindi usi la tua: su linkedin.com/developers crea un&apos;app (deve essere collegata a una pagina LinkedIn: la tua o una segnaposto), aggiungi i prodotti «Share on LinkedIn» e «Sign In with LinkedIn using OpenID Connect» e, nella scheda Auth, aggiungi http://127.0.0.1:8765/callback (o l&apos;indirizzo di accesso qui sotto) come Authorized redirect URL. Copia qui il Client ID e più sotto il Client Secret. Staffetta chiede openid, profile e w_member_social (w_organization_social per pubblicare come pagina).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From your app&apos;s Auth tab. LinkedIn needs it to finish each sign-in; it is kept in the system keyring, never in Staffetta&apos;s files.</source>
        <translation>Dalla scheda Auth della tua app. LinkedIn ne ha bisogno per completare ogni accesso; viene conservato nel portachiavi di sistema, mai nei file di Staffetta.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty to post as yourself. To post as a page you administer, give its number (linkedin.com/company/NUMBER/admin); your app then needs the Community Management API product for w_organization_social.</source>
        <translation>Lascia vuoto per pubblicare a tuo nome. Per pubblicare come una pagina che amministri, indica il suo numero (linkedin.com/company/NUMERO/admin); in quel caso la tua app ha bisogno del prodotto Community Management API per w_organization_social.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty to use http://127.0.0.1:8765/callback. It must be exactly an Authorized redirect URL of your app; Staffetta listens there only while you sign in.</source>
        <translation>Lascia vuoto per usare http://127.0.0.1:8765/callback. Deve essere esattamente uno degli Authorized redirect URL della tua app; Staffetta resta in ascolto lì solo mentre accedi.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name</source>
        <translation>Nome</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Filled in when you connect.</source>
        <translation>Compilato quando ti colleghi.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>WhatsApp Channel</source>
        <translation>Canale WhatsApp</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Channel link</source>
        <translation>Link del canale</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>WhatsApp has no way for apps to post to a channel, so Staffetta prepares each post and you paste it. Paste your channel&apos;s link (WhatsApp → Updates → your channel → Channel link, like https://whatsapp.com/channel/…) to open it for you; leave empty to open WhatsApp&apos;s share page with the text already filled in.</source>
        <translation>WhatsApp non permette alle app di pubblicare in un canale, quindi Staffetta prepara ogni post e lo incolli tu. Incolla il link del tuo canale (WhatsApp → Aggiornamenti → il tuo canale → Link del canale, ad esempio https://whatsapp.com/channel/…) perché Staffetta lo apra per te; lascia vuoto per aprire la pagina di condivisione di WhatsApp con il testo già inserito.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status check</source>
        <translation>Verifica dello stato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty. Staffetta asks this address before your turn comes, so during a WhatsApp outage the reminder waits until WhatsApp is back; “off” skips the check.</source>
        <translation>Lascia vuoto. Staffetta interroga questo indirizzo prima che tocchi a te, così durante un disservizio di WhatsApp il promemoria aspetta che WhatsApp torni disponibile; «off» salta la verifica.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Instagram (personal, assisted)</source>
        <translation>Instagram (personale, assistito)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open with</source>
        <translation>Apri con</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Instagram lets apps post only to professional accounts, so for a personal account Staffetta prepares the caption and the picture and you post them. Leave empty to open instagram.com (choose Create and paste); instagram:// opens the app where it is installed.</source>
        <translation>Instagram permette alle app di pubblicare solo sugli account professionali, quindi per un account personale Staffetta prepara la didascalia e l&apos;immagine e le pubblichi tu. Lascia vuoto per aprire instagram.com (scegli Crea e incolla); instagram:// apre l&apos;app dove è installata.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave empty. Staffetta asks this address before your turn comes, so during an Instagram outage the reminder waits until Instagram is back; “off” skips the check.</source>
        <translation>Lascia vuoto. Staffetta interroga questo indirizzo prima che tocchi a te, così durante un disservizio di Instagram il promemoria aspetta che Instagram torni disponibile; «off» salta la verifica.</translation>
    </message>
</context>
<context>
    <name>ComposerPage</name>
    <message>
        <location filename="../../desktop/staffetta/ui/composer.py" line="+139"/>
        <location line="+1"/>
        <source>Title</source>
        <translation>Titolo</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>What would you like to share?</source>
        <translation>Che cosa vuoi condividere?</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Post text</source>
        <translation>Testo del post</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Common text</source>
        <translation>Testo comune</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>https://… (optional)</source>
        <translation>https://… (facoltativo)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Link</source>
        <translation>Link</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>travel, photography (optional)</source>
        <translation>viaggi, fotografia (facoltativo)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tags, separated by commas</source>
        <translation>Tag, separati da virgole</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Shown before the post where supported (optional)</source>
        <translation>Mostrato prima del post dove è supportato (facoltativo)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Content warning</source>
        <translation>Avviso sul contenuto</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Number thread parts (1/3, 2/3…)</source>
        <translation>&amp;Numera le parti del thread (1/3, 2/3…)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Link:</source>
        <translation>&amp;Link:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>T&amp;ags:</source>
        <translation>T&amp;ag:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Content &amp;warning:</source>
        <translation>A&amp;vviso sul contenuto:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Draft status</source>
        <translation>Stato della bozza</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Drafts…</source>
        <translation>&amp;Bozze…</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+560"/>
        <source>&amp;Schedule…</source>
        <translation>&amp;Programma…</translation>
    </message>
    <message>
        <location line="-558"/>
        <location line="+557"/>
        <source>&amp;Publish</source>
        <translation>&amp;Pubblica</translation>
    </message>
    <message>
        <location line="-555"/>
        <source>Publish (Ctrl+Enter)</source>
        <translation>Pubblica (Ctrl+Invio)</translation>
    </message>
    <message numerus="yes">
        <location line="+131"/>
        <source>%n draft file(s) could not be read. They were left untouched; Drafts… says why.</source>
        <translation>
            <numerusform>%n file di bozza non può essere letto. È stato lasciato com&apos;era; Bozze… spiega perché.</numerusform>
            <numerusform>%n file di bozza non possono essere letti. Sono stati lasciati com&apos;erano; Bozze… spiega perché.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Drafts…</source>
        <translation>Bozze…</translation>
    </message>
    <message>
        <location line="+124"/>
        <source>Draft saved at {time}</source>
        <translation>Bozza salvata alle {time}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Draft not saved</source>
        <translation>Bozza non salvata</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Text for {name}</source>
        <translation>Testo per {name}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Only {name} gets this text. Close the tab to use the common text.</source>
        <translation>Solo {name} riceve questo testo. Chiudi la scheda per usare il testo comune.</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>{name} uses the common text again.</source>
        <translation>{name} usa di nuovo il testo comune.</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+111"/>
        <source>Undo</source>
        <translation>Annulla</translation>
    </message>
    <message>
        <location line="-77"/>
        <source>{platform} does not publish threads: shorten the text for {name}.</source>
        <translation>{platform} non pubblica thread: accorcia il testo per {name}.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Split into a thread for {name}. Move the --- lines to choose where each part ends.</source>
        <translation>Diviso in un thread per {name}. Sposta le righe --- per scegliere dove finisce ogni parte.</translation>
    </message>
    <message numerus="yes">
        <location line="+36"/>
        <source>%n image(s) resized to fit {name}.</source>
        <translation>
            <numerusform>%n immagine ridimensionata per {name}.</numerusform>
            <numerusform>%n immagini ridimensionate per {name}.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+32"/>
        <source>%n image(s) removed.</source>
        <translation>
            <numerusform>%n immagine rimossa.</numerusform>
            <numerusform>%n immagini rimosse.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Add images</source>
        <translation>Aggiungi immagini</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Images ({patterns})</source>
        <translation>Immagini ({patterns})</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Pasted image</source>
        <translation>Immagine incollata</translation>
    </message>
    <message numerus="yes">
        <location line="+23"/>
        <location line="+4"/>
        <source>Adding %n image(s)…</source>
        <translation>
            <numerusform>Aggiunta di %n immagine…</numerusform>
            <numerusform>Aggiunta di %n immagini…</numerusform>
        </translation>
    </message>
    <message>
        <location line="+54"/>
        <source>&amp;Publish at {when}</source>
        <translation>&amp;Pubblica alle {when}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re&amp;schedule…</source>
        <translation>Ri&amp;programma…</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Choose at least one account to publish to.</source>
        <translation>Scegli almeno un account su cui pubblicare.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Images are still being added; publish again in a moment.</source>
        <translation>Le immagini sono ancora in aggiunta; pubblica di nuovo tra un momento.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The scheduled time has passed. Pick a new time or don&apos;t schedule.</source>
        <translation>L&apos;orario programmato è passato. Scegline uno nuovo o non programmare.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Schedule…</source>
        <translation>Programma…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Fix these before publishing:</source>
        <translation>Correggi questi punti prima di pubblicare:</translation>
    </message>
    <message numerus="yes">
        <location line="+24"/>
        <source>Publishing to %n account(s)…</source>
        <translation>
            <numerusform>Pubblicazione su %n account…</numerusform>
            <numerusform>Pubblicazione su %n account…</numerusform>
        </translation>
    </message>
    <message>
        <location line="+7"/>
        <source>In the outbox. Each copy goes out as soon as its platform accepts it.</source>
        <translation>Nella posta in uscita. Ogni copia parte appena la sua piattaforma la accetta.</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Not published: {error} Your post is back in the composer.</source>
        <translation>Non pubblicato: {error} Il tuo post è di nuovo nell&apos;editor.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Not published: {error} Your post was kept in Drafts.</source>
        <translation>Non pubblicato: {error} Il tuo post è stato conservato nelle bozze.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Open</source>
        <translation>Apri</translation>
    </message>
</context>
<context>
    <name>DeliveryActions</name>
    <message>
        <location filename="../../desktop/staffetta/ui/outbox_details.py" line="+31"/>
        <source>&amp;Open post</source>
        <translation>&amp;Apri il post</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open the published post in the browser</source>
        <translation>Apri il post pubblicato nel browser</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>It &amp;went out</source>
        <translation>È &amp;uscito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>It is on the platform: mark it sent, never send it again</source>
        <translation>È sulla piattaforma: segnalo come inviato e non inviarlo più</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Send again</source>
        <translation>&amp;Invia di nuovo</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>It is not on the platform: send it again now</source>
        <translation>Non è sulla piattaforma: invialo di nuovo ora</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Copy &amp;&amp; &amp;open</source>
        <translation>Copia e &amp;apri</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Put the text (and the first image) on the clipboard and open the app to paste it</source>
        <translation>Copia il testo (e la prima immagine) negli appunti e apri l&apos;app per incollarlo</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>I &amp;posted it</source>
        <translation>L&apos;ho &amp;pubblicato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>You posted it yourself: mark it sent; the next posts follow</source>
        <translation>L&apos;hai pubblicato tu: segnalo come inviato; i post successivi seguono</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>S&amp;kip</source>
        <translation>&amp;Salta</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>You will not post this one: the next posts follow</source>
        <translation>Questo non lo pubblichi: i post successivi seguono</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Retry now</source>
        <translation>&amp;Riprova ora</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Try this copy again right now</source>
        <translation>Riprova subito questa copia</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Edit and requeue…</source>
        <translation>&amp;Modifica e rimetti in coda…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open its text in the composer; publishing it queues a new copy</source>
        <translation>Apri il testo nell&apos;editor; pubblicandolo metti in coda una nuova copia</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Cancel</source>
        <translation>A&amp;nnulla</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop this copy: it will not be sent to this account</source>
        <translation>Ferma questa copia: non verrà inviata a questo account</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>&amp;Attempts…</source>
        <translation>&amp;Tentativi…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Every try for this copy: when, and what happened</source>
        <translation>Ogni tentativo per questa copia: quando e cosa è successo</translation>
    </message>
</context>
<context>
    <name>DeliveryDialog</name>
    <message>
        <location filename="../../desktop/staffetta/ui/delivery_dialog.py" line="+36"/>
        <source>in progress</source>
        <translation>in corso</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>interrupted, outcome unknown</source>
        <translation>interrotto, esito sconosciuto</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>sent</source>
        <translation>inviato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed, will retry</source>
        <translation>non riuscito, nuovo tentativo in seguito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed, platform down</source>
        <translation>non riuscito, piattaforma fuori servizio</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>connection lost, checking</source>
        <translation>connessione persa, verifica in corso</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>sign-in refused</source>
        <translation>accesso rifiutato</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>refused by the platform</source>
        <translation>rifiutato dalla piattaforma</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unconfirmed</source>
        <translation>non confermato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cancelled</source>
        <translation>annullato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>your turn</source>
        <translation>tocca a te</translation>
    </message>
    <message>
        <location line="+10"/>
        <location line="+12"/>
        <source>Attempts</source>
        <translation>Tentativi</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>Started</source>
        <translation>Iniziato</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Took</source>
        <translation>Durata</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Outcome</source>
        <translation>Esito</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Detail</source>
        <translation>Dettaglio</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Not tried yet.</source>
        <translation>Non ancora tentato.</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Attempts — {account}</source>
        <translation>Tentativi — {account}</translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>“{post}” to {account}: %n attempt(s).</source>
        <translation>
            <numerusform>«{post}» su {account}: %n tentativo.</numerusform>
            <numerusform>«{post}» su {account}: %n tentativi.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+9"/>
        <source>{seconds} s</source>
        <translation>{seconds} s</translation>
    </message>
</context>
<context>
    <name>DetailsPanel</name>
    <message>
        <location filename="../../desktop/staffetta/ui/outbox_details.py" line="+146"/>
        <source>Select a post to see how each copy is doing.</source>
        <translation>Seleziona un post per vedere a che punto è ogni copia.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Post</source>
        <translation>Post</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Written {when}</source>
        <translation>Scritto {when}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>scheduled for {when}</source>
        <translation>programmato per {when}</translation>
    </message>
</context>
<context>
    <name>DraftsDialog</name>
    <message>
        <location filename="../../desktop/staffetta/ui/drafts_dialog.py" line="+53"/>
        <source>Drafts</source>
        <translation>Bozze</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Drafts, newest first</source>
        <translation>Bozze, dalla più recente</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No drafts. Everything you write is kept here until it is published.</source>
        <translation>Nessuna bozza. Tutto ciò che scrivi viene conservato qui finché non è pubblicato.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&amp;Undo</source>
        <translation>&amp;Annulla</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>&amp;Open</source>
        <translation>&amp;Apri</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>D&amp;uplicate</source>
        <translation>D&amp;uplica</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Delete</source>
        <translation>&amp;Elimina</translation>
    </message>
    <message numerus="yes">
        <location line="+44"/>
        <source>%n draft file(s) could not be read and were left untouched:</source>
        <translation>
            <numerusform>%n file di bozza non può essere letto ed è stato lasciato com&apos;era:</numerusform>
            <numerusform>%n file di bozza non possono essere letti e sono stati lasciati com&apos;erano:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+23"/>
        <source>%n image(s), no text</source>
        <translation>
            <numerusform>%n immagine, nessun testo</numerusform>
            <numerusform>%n immagini, nessun testo</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Untitled draft</source>
        <translation>Bozza senza titolo</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Edited {when}</source>
        <translation>Modificata {when}</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n immagine</numerusform>
            <numerusform>%n immagini</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n channel(s)</source>
        <translation>
            <numerusform>%n canale</numerusform>
            <numerusform>%n canali</numerusform>
        </translation>
    </message>
    <message>
        <location line="+6"/>
        <source>scheduled for {when}</source>
        <translation>programmato per {when}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>open in the composer</source>
        <translation>aperta nell&apos;editor</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Staffetta stopped while publishing this one: check the Outbox before publishing it again.</source>
        <translation>Staffetta si è interrotta mentre pubblicava questa bozza: controlla la posta in uscita prima di pubblicarla di nuovo.</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>This draft is open in the composer: clear its text to discard it.</source>
        <translation>Questa bozza è aperta nell&apos;editor: cancellane il testo per scartarla.</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Draft duplicated.</source>
        <translation>Bozza duplicata.</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Draft deleted.</source>
        <translation>Bozza eliminata.</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Draft restored.</source>
        <translation>Bozza ripristinata.</translation>
    </message>
</context>
<context>
    <name>HealthStrip</name>
    <message>
        <location filename="../../desktop/staffetta/ui/health.py" line="+229"/>
        <source>{platform}: down since {time}</source>
        <translation>{platform}: fuori servizio dalle {time}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{platform}: {accounts} needs reconnecting</source>
        <translation>{platform}: {accounts} da ricollegare</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{platform}: having trouble</source>
        <translation>{platform}: problemi in corso</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{platform}: working</source>
        <translation>{platform}: funziona</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n post(s) waiting</source>
        <translation>
            <numerusform>%n post in attesa</numerusform>
            <numerusform>%n post in attesa</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>next check in {time}</source>
        <translation>prossima verifica tra {time}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>checking now</source>
        <translation>verifica in corso</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>down</source>
        <translation>fuori servizio</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>reconnect</source>
        <translation>ricollega</translation>
    </message>
</context>
<context>
    <name>ImageCard</name>
    <message>
        <location filename="../../desktop/staffetta/ui/image_strip.py" line="+82"/>
        <source>Loading…</source>
        <translation>Caricamento…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Describe the image for people who can&apos;t see it</source>
        <translation>Descrivi l&apos;immagine per chi non può vederla</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No description yet</source>
        <translation>Ancora nessuna descrizione</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Move left</source>
        <translation>Sposta a sinistra</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Move right</source>
        <translation>Sposta a destra</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Remove image</source>
        <translation>Rimuovi immagine</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Image {n}</source>
        <translation>Immagine {n}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Description of image {n}</source>
        <translation>Descrizione dell&apos;immagine {n}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No preview</source>
        <translation>Nessuna anteprima</translation>
    </message>
</context>
<context>
    <name>ImageStrip</name>
    <message>
        <location line="+33"/>
        <source>Add &amp;images…</source>
        <translation>Aggiungi &amp;immagini…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Or drop pictures here, or paste one into the text</source>
        <translation>Oppure trascina qui le immagini, o incollane una nel testo</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/staffetta/ui/main_window.py" line="+174"/>
        <source>Pages</source>
        <translation>Pagine</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Compose</source>
        <translation>Scrivi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Outbox</source>
        <translation>Posta in uscita</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Accounts</source>
        <translation>Account</translation>
    </message>
    <message>
        <location line="+54"/>
        <source>Editing a queued post is not available in this build yet.</source>
        <translation>La modifica di un post in coda non è ancora disponibile in questa versione.</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>{page} ({count})</source>
        <translation>{page} ({count})</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Queued. Each copy goes out as soon as its platform accepts it.</source>
        <translation>In coda. Ogni copia parte appena la sua piattaforma la accetta.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Platform health</source>
        <translation>Stato delle piattaforme</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>&amp;File</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;New post</source>
        <translation>&amp;Nuovo post</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Drafts…</source>
        <translation>&amp;Bozze…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Settings…</source>
        <translation>&amp;Impostazioni…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Close window</source>
        <translation>&amp;Chiudi finestra</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Quit</source>
        <translation>&amp;Esci</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&amp;View</source>
        <translation>&amp;Visualizza</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>&amp;Help</source>
        <translation>&amp;Aiuto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;About Staffetta</source>
        <translation>&amp;Informazioni su Staffetta</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Drafts are not available in this build yet.</source>
        <translation>Le bozze non sono ancora disponibili in questa versione.</translation>
    </message>
</context>
<context>
    <name>MessageBar</name>
    <message>
        <location filename="../../desktop/staffetta/ui/message_bar.py" line="+28"/>
        <source>Message</source>
        <translation>Messaggio</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Dismiss</source>
        <translation>Chiudi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dismiss message</source>
        <translation>Chiudi il messaggio</translation>
    </message>
</context>
<context>
    <name>Notifier</name>
    <message>
        <location filename="../../desktop/staffetta/ui/notifications.py" line="+153"/>
        <source>{platform} is back</source>
        <translation>{platform} è di nuovo online</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n post(s) went out on {platform} after it came back.</source>
        <translation>
            <numerusform>%n post è stato pubblicato su {platform} ora che è di nuovo online.</numerusform>
            <numerusform>%n post sono stati pubblicati su {platform} ora che è di nuovo online.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Sent</source>
        <translation>Pubblicazione riuscita</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n post(s) went out on {platforms}.</source>
        <translation>
            <numerusform>%n post è stato pubblicato su {platforms}.</numerusform>
            <numerusform>%n post sono stati pubblicati su {platforms}.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+8"/>
        <source>%n post(s) need you</source>
        <translation>
            <numerusform>%n post richiede il tuo intervento</numerusform>
            <numerusform>%n post richiedono il tuo intervento</numerusform>
        </translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open the outbox to see what happened and what you can do.</source>
        <translation>Apri la posta in uscita per vedere cosa è successo e cosa puoi fare.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Reconnect your {platform} account</source>
        <translation>Ricollega il tuo account {platform}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{platform} refused Staffetta&apos;s sign-in. Your posts for it wait until you reconnect the account.</source>
        <translation>{platform} ha rifiutato l&apos;accesso di Staffetta. I post destinati lì aspettano finché non ricolleghi l&apos;account.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Your turn: post on {platform}</source>
        <translation>Tocca a te: pubblica su {platform}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A post is ready for you to publish on {platform} yourself. Open the outbox and choose “Copy &amp; open”.</source>
        <translation>Un post è pronto perché tu lo pubblichi su {platform}. Apri la posta in uscita e scegli «Copia e apri».</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{platform} refused a post</source>
        <translation>{platform} ha rifiutato un post</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open the outbox to see why and to edit or retry it.</source>
        <translation>Apri la posta in uscita per vedere il motivo e per modificarlo o riprovare.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Did your post go out on {platform}?</source>
        <translation>Il tuo post è stato pubblicato su {platform}?</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Staffetta could not tell whether it was published. Check {platform}, then tell Staffetta in the outbox.</source>
        <translation>Staffetta non può sapere se è stato pubblicato. Controlla su {platform}, poi indicalo nella posta in uscita.</translation>
    </message>
</context>
<context>
    <name>OutboxDelegate</name>
    <message>
        <location filename="../../desktop/staffetta/ui/outbox_delegate.py" line="+131"/>
        <source>(no text)</source>
        <translation>(nessun testo)</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>+{n}</source>
        <translation>+{n}</translation>
    </message>
</context>
<context>
    <name>OutboxPage</name>
    <message>
        <location filename="../../desktop/staffetta/ui/outbox.py" line="+120"/>
        <location line="+1"/>
        <source>Search posts</source>
        <translation>Cerca nei post</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Dismiss</source>
        <translation>Chiudi</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Posts</source>
        <translation>Post</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Post details</source>
        <translation>Dettagli del post</translation>
    </message>
    <message>
        <location line="+81"/>
        <source>No posts match “{search}”.</source>
        <translation>Nessun post corrisponde a «{search}».</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Nothing here yet. Posts you publish appear here, with how each copy is doing.</source>
        <translation>Ancora niente qui. I post che pubblichi compaiono qui, con lo stato di ogni copia.</translation>
    </message>
    <message>
        <location line="+136"/>
        <source>Could not open {url}.</source>
        <translation>Impossibile aprire {url}.</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>The text is on the clipboard, but {app} could not be opened.</source>
        <translation>Il testo è negli appunti, ma non è stato possibile aprire {app}.</translation>
    </message>
</context>
<context>
    <name>OwnedFirstNote</name>
    <message>
        <location filename="../../desktop/staffetta/ui/preview.py" line="+64"/>
        <source>Tip: add a channel you own</source>
        <translation>Suggerimento: aggiungi un canale tutto tuo</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Social platforms can go down or change the rules. A blog or newsletter you own keeps your audience reachable.</source>
        <translation>Le piattaforme social possono smettere di funzionare o cambiare le regole. Un blog o una newsletter tutti tuoi ti permettono di raggiungere sempre il tuo pubblico.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Add a blog or newsletter</source>
        <translation>Aggiungi un blog o una newsletter</translation>
    </message>
    <message>
        <location line="+7"/>
        <location line="+1"/>
        <source>Dismiss this tip</source>
        <translation>Chiudi questo suggerimento</translation>
    </message>
</context>
<context>
    <name>PreviewCard</name>
    <message>
        <location filename="../../desktop/staffetta/ui/preview_card.py" line="+307"/>
        <source>Show less</source>
        <translation>Mostra meno</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Show more</source>
        <translation>Mostra altro</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>{count} / {limit}</source>
        <translation>{count} / {limit}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{count} {unit}</source>
        <translation>{count} {unit}</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>{count} of {limit} {unit}, counted the way the platform counts</source>
        <translation>{count} su {limit} {unit}, contati come li conta la piattaforma</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{count} {unit}; this channel has no length limit</source>
        <translation>{count} {unit}; questo canale non ha limiti di lunghezza</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Subject: {title}</source>
        <translation>Oggetto: {title}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Link: {url}</source>
        <translation>Link: {url}</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>{index}/{total}</source>
        <translation>{index}/{total}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>ALT</source>
        <translation>ALT</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>⚠ No alt</source>
        <translation>⚠ Senza alt</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Split into a thread</source>
        <translation>Dividi in un thread</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resize image</source>
        <translation>Ridimensiona l&apos;immagine</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Customise text for this channel</source>
        <translation>Personalizza il testo per questo canale</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add alt text</source>
        <translation>Aggiungi il testo alternativo</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add an image</source>
        <translation>Aggiungi un&apos;immagine</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove images</source>
        <translation>Rimuovi le immagini</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>{channel} preview for {name}</source>
        <translation>Anteprima {channel} per {name}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Length: {count}</source>
        <translation>Lunghezza: {count}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Post text, part {n}</source>
        <translation>Testo del post, parte {n}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Post body as readers see it</source>
        <translation>Il testo del post come lo vede chi legge</translation>
    </message>
</context>
<context>
    <name>PreviewPane</name>
    <message>
        <location filename="../../desktop/staffetta/ui/preview.py" line="+72"/>
        <source>Previews</source>
        <translation>Anteprime</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Choose where to publish to see the previews.</source>
        <translation>Scegli dove pubblicare per vedere le anteprime.</translation>
    </message>
    <message numerus="yes">
        <location line="+26"/>
        <source>Start writing: each of the %n chosen channel(s) shows its preview here.</source>
        <translation>
            <numerusform>Inizia a scrivere: qui compare l’anteprima del canale scelto.</numerusform>
            <numerusform>Inizia a scrivere: qui compare l’anteprima di ciascuno dei %n canali scelti.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+92"/>
        <source>This version of Staffetta does not know the channel &apos;{name}&apos;.</source>
        <translation>Questa versione di Staffetta non conosce il canale «{name}».</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>The preview could not be made: {error}</source>
        <translation>Impossibile creare l&apos;anteprima: {error}</translation>
    </message>
</context>
<context>
    <name>ScheduleDialog</name>
    <message>
        <location filename="../../desktop/staffetta/ui/schedule_dialog.py" line="+39"/>
        <source>Schedule post</source>
        <translation>Programma il post</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The post waits in the outbox and goes out at this time:</source>
        <translation>Il post aspetta nella posta in uscita e parte a quest&apos;ora:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Date and time to publish</source>
        <translation>Data e ora di pubblicazione</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>&amp;Schedule</source>
        <translation>&amp;Programma</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Don&apos;t schedule</source>
        <translation>&amp;Non programmare</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Pick a time in the future.</source>
        <translation>Scegli un orario nel futuro.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../desktop/staffetta/ui/settings_dialog.py" line="+35"/>
        <source>Settings</source>
        <translation>Impostazioni</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Language</source>
        <translation>Lingua</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>System default ({language})</source>
        <translation>Come il sistema ({language})</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The new language applies when Staffetta restarts.</source>
        <translation>La nuova lingua sarà attiva al prossimo avvio di Staffetta.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Keep delivering in the background when the window is closed</source>
        <translation>&amp;Continua a consegnare in background quando la finestra è chiusa</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Staffetta stays in the system tray and posts keep going out. Quit from the tray menu to stop it.</source>
        <translation>Staffetta resta nell&apos;area di notifica e i post continuano a partire. Per chiuderla del tutto, scegli Esci dal menu dell&apos;icona.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Notify me about every post that goes out</source>
        <translation>&amp;Avvisami per ogni post pubblicato</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Without this, Staffetta only tells you when something needs you or when posts went out after a platform came back.</source>
        <translation>Altrimenti Staffetta ti avvisa solo quando serve il tuo intervento o quando dei post sono partiti dopo il ritorno di una piattaforma.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Data folder</source>
        <translation>Cartella dei dati</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your outbox, drafts and images live here.</source>
        <translation>Qui si trovano la posta in uscita, le bozze e le immagini.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Open</source>
        <translation>A&amp;pri</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open the data folder</source>
        <translation>Apri la cartella dei dati</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;Language:</source>
        <translation>&amp;Lingua:</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Data folder:</source>
        <translation>Cartella &amp;dati:</translation>
    </message>
</context>
<context>
    <name>Shell</name>
    <message>
        <location filename="../../desktop/staffetta/ui/app.py" line="+221"/>
        <source>Staffetta is still running</source>
        <translation>Staffetta è ancora in funzione</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Your posts keep going out from here. To stop Staffetta, choose Quit in this icon&apos;s menu. You can change this in Settings.</source>
        <translation>I tuoi post continuano a partire da qui. Per chiudere Staffetta, scegli Esci nel menu di questa icona. Puoi cambiare questo comportamento nelle Impostazioni.</translation>
    </message>
</context>
<context>
    <name>Startup</name>
    <message>
        <location line="-138"/>
        <source>Staffetta cannot open your outbox. Nothing in it was changed.</source>
        <translation>Staffetta non riesce ad aprire la posta in uscita. Non è stato modificato nulla.</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Staffetta needs the system keyring, where your account passwords are kept.</source>
        <translation>Staffetta ha bisogno del portachiavi di sistema, dove sono custodite le password dei tuoi account.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Staffetta cannot start its delivery engine. Nothing was changed.</source>
        <translation>Staffetta non riesce ad avviare il motore di consegna. Non è stato modificato nulla.</translation>
    </message>
</context>
<context>
    <name>StateChip</name>
    <message>
        <location filename="../../desktop/staffetta/ui/state_chip.py" line="+104"/>
        <source>retry in {time}</source>
        <translation>nuovo tentativo tra {time}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>scheduled {when}</source>
        <translation>programmato: {when}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>waiting for the platform</source>
        <translation>in attesa della piattaforma</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>down since {time}</source>
        <translation>fuori servizio dalle {time}</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>queued</source>
        <translation>in coda</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>scheduled</source>
        <translation>programmato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>sending…</source>
        <translation>invio…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>retrying…</source>
        <translation>nuovo tentativo…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>checking…</source>
        <translation>verifica…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>needs reconnect</source>
        <translation>da ricollegare</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>sent</source>
        <translation>inviato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>non riuscito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unconfirmed</source>
        <translation>non confermato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cancelled</source>
        <translation>annullato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>your turn</source>
        <translation>tocca a te</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Queued: it goes out as soon as the copies before it have.</source>
        <translation>In coda: parte appena sono partite le copie precedenti.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Scheduled: it goes out at {when}.</source>
        <translation>Programmato: parte alle {when}.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Sending now.</source>
        <translation>Invio in corso.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Waiting: the last try did not work; the next one is in {time}.</source>
        <translation>In attesa: l&apos;ultimo tentativo non è riuscito; il prossimo tra {time}.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Trying again now.</source>
        <translation>Nuovo tentativo in corso.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Checking with the platform whether the last try went out, before sending again.</source>
        <translation>Verifica con la piattaforma se l&apos;ultimo tentativo è andato a buon fine, prima di inviare di nuovo.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The platform has been down since {time}; this copy goes out when it is back.</source>
        <translation>La piattaforma è fuori servizio dalle {time}; questa copia parte quando torna disponibile.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Waiting for the platform to recover; it goes out by itself.</source>
        <translation>In attesa che la piattaforma torni disponibile; partirà da solo.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The account needs reconnecting (Accounts page); then it goes out.</source>
        <translation>L&apos;account va ricollegato (pagina Account); poi il post parte.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Sent. Click to open it.</source>
        <translation>Inviato. Fai clic per aprirlo.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sent.</source>
        <translation>Inviato.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Failed: the platform refused it. Edit it and queue it again, or cancel it.</source>
        <translation>Non riuscito: la piattaforma l&apos;ha rifiutato. Modificalo e rimettilo in coda, oppure annullalo.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Unconfirmed: nobody can tell whether it went out. Check the platform, then tell Staffetta.</source>
        <translation>Non confermato: non si può sapere se è uscito. Controlla sulla piattaforma, poi indicalo a Staffetta.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Your turn: this one is posted by you. “Copy &amp; open” puts the text (and the first image) on the clipboard and opens the app; paste it there, then choose “I posted it” — or “Skip”. Later posts to this account wait until then.</source>
        <translation>Tocca a te: questo lo pubblichi tu. «Copia e apri» mette il testo (e la prima immagine) negli appunti e apre l&apos;app; incollalo lì, poi scegli «L&apos;ho pubblicato» — oppure «Salta». I post successivi per questo account aspettano fino ad allora.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Cancelled: it will not be sent.</source>
        <translation>Annullato: non verrà inviato.</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../../desktop/staffetta/ui/tray.py" line="+166"/>
        <source>&amp;Open Staffetta</source>
        <translation>&amp;Apri Staffetta</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;New post</source>
        <translation>&amp;Nuovo post</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Quit</source>
        <translation>&amp;Esci</translation>
    </message>
    <message numerus="yes">
        <location line="+39"/>
        <source>%n post(s) need you</source>
        <translation>
            <numerusform>%n post richiede il tuo intervento</numerusform>
            <numerusform>%n post richiedono il tuo intervento</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n account(s) to reconnect</source>
        <translation>
            <numerusform>%n account da ricollegare</numerusform>
            <numerusform>%n account da ricollegare</numerusform>
        </translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{platform} is down since {time}</source>
        <translation>{platform} non funziona dalle {time}</translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>%n post(s) on their way</source>
        <translation>
            <numerusform>%n post in partenza</numerusform>
            <numerusform>%n post in partenza</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n post(s) scheduled</source>
        <translation>
            <numerusform>%n post programmato</numerusform>
            <numerusform>%n post programmati</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Everything has been sent</source>
        <translation>Tutto inviato</translation>
    </message>
</context>
<context>
    <name>_Placeholder</name>
    <message>
        <location filename="../../desktop/staffetta/ui/main_window.py" line="-237"/>
        <source>{page} is not available in this build yet.</source>
        <translation>«{page}» non è ancora disponibile in questa versione.</translation>
    </message>
</context>
</TS>
