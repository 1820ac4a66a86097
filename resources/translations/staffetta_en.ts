<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>AccountsPage</name>
    <message numerus="yes">
        <location filename="../../desktop/staffetta/ui/accounts.py" line="+216"/>
        <source>Needs reconnecting, %n post(s) waiting: {reason}</source>
        <translation>
            <numerusform>Needs reconnecting, %n post waiting: {reason}</numerusform>
            <numerusform>Needs reconnecting, %n posts waiting: {reason}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+98"/>
        <source>%n post(s) not yet sent to it will be cancelled.</source>
        <translation>
            <numerusform>%n post not yet sent to it will be cancelled.</numerusform>
            <numerusform>%n posts not yet sent to it will be cancelled.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ComposerPage</name>
    <message numerus="yes">
        <location filename="../../desktop/staffetta/ui/composer.py" line="+321"/>
        <source>%n draft file(s) could not be read. They were left untouched; Drafts… says why.</source>
        <translation>
            <numerusform>%n draft file could not be read. It was left untouched; Drafts… says why.</numerusform>
            <numerusform>%n draft files could not be read. They were left untouched; Drafts… says why.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+276"/>
        <source>%n image(s) resized to fit {name}.</source>
        <translation>
            <numerusform>%n image resized to fit {name}.</numerusform>
            <numerusform>%n images resized to fit {name}.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+32"/>
        <source>%n image(s) removed.</source>
        <translation>
            <numerusform>%n image removed.</numerusform>
            <numerusform>%n images removed.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+64"/>
        <location line="+4"/>
        <source>Adding %n image(s)…</source>
        <translation>
            <numerusform>Adding %n image…</numerusform>
            <numerusform>Adding %n images…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+126"/>
        <source>Publishing to %n account(s)…</source>
        <translation>
            <numerusform>Publishing to %n account…</numerusform>
            <numerusform>Publishing to %n accounts…</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DeliveryDialog</name>
    <message numerus="yes">
        <location filename="../../desktop/staffetta/ui/delivery_dialog.py" line="+108"/>
        <source>“{post}” to {account}: %n attempt(s).</source>
        <translation>
            <numerusform>“{post}” to {account}: %n attempt.</numerusform>
            <numerusform>“{post}” to {account}: %n attempts.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DraftsDialog</name>
    <message numerus="yes">
        <location filename="../../desktop/staffetta/ui/drafts_dialog.py" line="+145"/>
        <source>%n draft file(s) could not be read and were left untouched:</source>
        <translation>
            <numerusform>%n draft file could not be read and was left untouched:</numerusform>
            <numerusform>%n draft files could not be read and were left untouched:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+23"/>
        <source>%n image(s), no text</source>
        <translation>
            <numerusform>%n image, no text</numerusform>
            <numerusform>%n images, no text</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+9"/>
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n image</numerusform>
            <numerusform>%n images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n channel(s)</source>
        <translation>
            <numerusform>%n channel</numerusform>
            <numerusform>%n channels</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>HealthStrip</name>
    <message numerus="yes">
        <location filename="../../desktop/staffetta/ui/health.py" line="+244"/>
        <source>%n post(s) waiting</source>
        <translation>
            <numerusform>%n post waiting</numerusform>
            <numerusform>%n posts waiting</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Notifier</name>
    <message numerus="yes">
        <location filename="../../desktop/staffetta/ui/notifications.py" line="+155"/>
        <source>%n post(s) went out on {platform} after it came back.</source>
        <translation>
            <numerusform>%n post went out on {platform} after it came back.</numerusform>
            <numerusform>%n posts went out on {platform} after it came back.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+14"/>
        <source>%n post(s) went out on {platforms}.</source>
        <translation>
            <numerusform>%n post went out on {platforms}.</numerusform>
            <numerusform>%n posts went out on {platforms}.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+8"/>
        <source>%n post(s) need you</source>
        <translation>
            <numerusform>%n post needs you</numerusform>
            <numerusform>%n posts need you</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>PreviewPane</name>
    <message numerus="yes">
        <location filename="../../desktop/staffetta/ui/preview.py" line="+194"/>
        <source>Start writing: each of the %n chosen channel(s) shows its preview here.</source>
        <translation>
            <numerusform>Start writing: the chosen channel shows its preview here.</numerusform>
            <numerusform>Start writing: each of the %n chosen channels shows its preview here.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message numerus="yes">
        <location filename="../../desktop/staffetta/ui/tray.py" line="+207"/>
        <source>%n post(s) need you</source>
        <translation>
            <numerusform>%n post needs you</numerusform>
            <numerusform>%n posts need you</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n account(s) to reconnect</source>
        <translation>
            <numerusform>%n account to reconnect</numerusform>
            <numerusform>%n accounts to reconnect</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+9"/>
        <source>%n post(s) on their way</source>
        <translation>
            <numerusform>%n post on its way</numerusform>
            <numerusform>%n posts on their way</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n post(s) scheduled</source>
        <translation>
            <numerusform>%n post scheduled</numerusform>
            <numerusform>%n posts scheduled</numerusform>
        </translation>
    </message>
</context>
</TS>
