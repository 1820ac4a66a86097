; Inno Setup 6 script: a per-user installer around the PyInstaller bundle (no admin rights).
;
;   python packaging/icons.py build/icons
;   pyinstaller --noconfirm --distpath build/dist --workpath build/pyinstaller packaging/staffetta.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\staffetta.iss
;
; AppVersion is passed by the release step (python -c "import staffetta; print(staffetta.__version__)").
; The AppUserModelID on the Start menu shortcut is the app id used everywhere (staffetta.APP_ID),
; so Windows groups the running window and its notifications under the installed shortcut.

#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z (the version of the staffetta package)
#endif
#define AppId "io.github.staffetta.Staffetta"
#define Root "..\.."

[Setup]
AppId={#AppId}
AppName=Staffetta
AppVersion={#AppVersion}
AppPublisher=Staffetta developers
AppPublisherURL=https://github.com/staffetta/staffetta
DefaultDirName={autopf}\Staffetta
DefaultGroupName=Staffetta
DisableProgramGroupPage=yes
; Per-user install: no UAC prompt; {autopf} becomes %LOCALAPPDATA%\Programs.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\build
OutputBaseFilename=Staffetta-{#AppVersion}-setup
SetupIconFile={#Root}\build\icons\staffetta.ico
UninstallDisplayIcon={app}\staffetta.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; The outbox, drafts and accounts live in the user's data folder, not in {app}: an upgrade or an
; uninstall never touches them.
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "italian"; MessagesFile: "compiler:Languages\Italian.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\build\dist\staffetta\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Staffetta"; Filename: "{app}\staffetta.exe"; AppUserModelID: "{#AppId}"
Name: "{group}\{cm:UninstallProgram,Staffetta}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Staffetta"; Filename: "{app}\staffetta.exe"; AppUserModelID: "{#AppId}"; Tasks: desktopicon

[Run]
Filename: "{app}\staffetta.exe"; Description: "{cm:LaunchProgram,Staffetta}"; Flags: nowait postinstall skipifsilent
