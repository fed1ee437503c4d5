package config

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ErrBadOrigin is returned by CanonicalOrigin for a value that is not an
// http or https origin.
var ErrBadOrigin = errors.New("config: not an origin (want http://host[:port] or https://host[:port])")

// defaultPorts are the ports an origin leaves out.
var defaultPorts = map[string]string{"http": "80", "https": "443"}

// CanonicalOrigin returns the origin s in one spelling, so that two spellings
// of one origin compare equal: lower-case scheme and host, no default port
// (http://Shop.Example.com:80 is http://shop.example.com). s must be an
// http or https origin as a browser sends it in an Origin header: a scheme,
// a host and an optional port, nothing else (a trailing "/" is tolerated).
// Anything else, "null" and "*" included, is ErrBadOrigin.
func CanonicalOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", ErrBadOrigin
	}
	return schemeHost(u)
}

// schemeHost returns the canonical origin of the scheme and host of u.
func schemeHost(u *url.URL) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	def, ok := defaultPorts[scheme]
	host := strings.ToLower(u.Hostname())
	if !ok || host == "" || strings.ContainsAny(host, " %") {
		return "", ErrBadOrigin
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" || port == def {
		return scheme + "://" + host, nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", ErrBadOrigin
	}
	return scheme + "://" + host + ":" + strings.TrimLeft(port, "0"), nil
}

// PublicOrigin returns the canonical origin of public-url.
func (s WebAPISettings) PublicOrigin() (string, error) {
	u, err := url.Parse(s.PublicURL)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", ErrBadOrigin
	}
	return schemeHost(u)
}

// Origins returns the canonical origins allowed-origins lists, in order,
// without duplicates. Call it on validated settings: an entry that is not
// an origin is skipped.
func (s WebAPISettings) Origins() []string {
	var out []string
	for _, o := range strings.Split(s.AllowedOrigins, ",") {
		c, err := CanonicalOrigin(strings.TrimSpace(o))
		if err == nil && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// DefaultPublicURL is the public-url of a web API that sets none: http, or
// https when it serves TLS, and its listen address; a wildcard or empty
// listen host becomes localhost (set public-url when browsers reach the web
// API under another name).
func DefaultPublicURL(listen string, tls bool) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// validateOrigins checks public-url and allowed-origins.
func (s WebAPISettings) validateOrigins() []*Error {
	var errs []*Error
	if s.PublicURL != "" {
		if _, err := s.PublicOrigin(); err != nil {
			errs = append(errs, &Error{Option: "public-url", Value: s.PublicURL,
				Msg: "want an http or https URL with a host (no user, query or fragment)"})
		}
	}
	for _, o := range strings.Split(s.AllowedOrigins, ",") {
		switch o = strings.TrimSpace(o); {
		case o == "": // an empty list, or a stray comma
		case o == "*":
			errs = append(errs, &Error{Option: "allowed-origins", Value: o,
				Msg: "\"*\" is not allowed: list each origin whose pages may use the web API"})
		default:
			if _, err := CanonicalOrigin(o); err != nil {
				errs = append(errs, &Error{Option: "allowed-origins", Value: o,
					Msg: "want scheme://host[:port] (http or https, no path), comma-separated"})
			}
		}
	}
	return errs
}
