<?php
// Router for `php -S`: real files (images, scripts, wp-admin pages) are served as they are;
// every other path (/wp-json/..., pretty permalinks) goes to WordPress's front controller, as
// Apache's rewrite rules would send it.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$file = $_SERVER['DOCUMENT_ROOT'] . $path;
if ($path !== '/' && file_exists($file)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
