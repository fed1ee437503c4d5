// Package config owns parley's deployment file: the YAML that names the
// databases and the applications (chat servers, web APIs, interaction
// servers, ...) of one deployment, their listen addresses, their connections,
// and their options in Genesys-named sections with Genesys defaults and
// ranges.
//
// Parse and Load read a file strictly: unknown keys, sections and options are
// errors, so a typo stops start-up instead of silently falling back to a
// default. Every error is an *Error that names the file, the application, the
// section and the option on one line.
package config
