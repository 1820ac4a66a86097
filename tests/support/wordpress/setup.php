<?php
// Installs the site (wp_install) and prints, as one JSON line, an application password for the
// administrator: what a user would create under Users -> Profile -> Application Passwords.
//
//     php setup.php DOCROOT ADMIN_PASSWORD
//
// There is no sendmail here: wp_install mails the administrator, so wp_mail is a no-op (it is
// pluggable: WordPress only defines it when nobody has).
if ($argc < 3) {
    fwrite(STDERR, "usage: php setup.php DOCROOT ADMIN_PASSWORD\n");
    exit(2);
}
function wp_mail() {
    return true;
}
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = parse_url(getenv('STAFFETTA_WP_URL'), PHP_URL_HOST);
require $argv[1] . '/wp-load.php';
require ABSPATH . 'wp-admin/includes/upgrade.php';

$installed = wp_install('Staffetta test blog', 'admin', 'admin@example.com', true, '', $argv[2]);
$user_id = (int) $installed['user_id'];

// Pretty permalinks, so /wp-json/ and /<slug>/ work as on most real sites.
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
$wp_rewrite->flush_rules(false);

list($password, $item) = WP_Application_Passwords::create_new_application_password(
    $user_id,
    array('name' => 'staffetta-tests')
);
echo json_encode(array('user' => 'admin', 'user_id' => $user_id, 'app_password' => $password)), "\n";
