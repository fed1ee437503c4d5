package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:generate go run favicon_gen.go favicon.ico

//go:embed widget desktop favicon.ico
var files embed.FS

// contentTypes are the types of the widget's files by extension, set here so
// that they do not depend on the host's MIME tables: a browser refuses an
// ES module served as anything but JavaScript.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Widget returns the handler of the customer widget, to be mounted at
// prefix (for instance "/widget/"): GET and HEAD of its files, the index
// page at prefix itself. Anything else is 404 (directories are not
// listed) or 405.
func Widget(prefix string) http.Handler { return static("widget", prefix) }

// Desktop returns the handler of the agent desktop, mounted at prefix (for
// instance "/desktop/"), served as Widget serves the widget.
func Desktop(prefix string) http.Handler { return static("desktop", prefix) }

// Favicon returns the handler of /favicon.ico, parley's icon, which
// browsers ask for on every page: GET and HEAD, cached for a day.
func Favicon() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		h := w.Header()
		h.Set("Content-Type", "image/x-icon")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=86400")
		http.ServeFileFS(w, r, files, "favicon.ico")
	})
}

// static serves the embedded directory dir at prefix.
func static(dir, prefix string) http.Handler {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		if r.URL.Path != prefix && strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if ct, ok := contentTypes[path.Ext(r.URL.Path)]; ok {
			h.Set("Content-Type", ct)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// readOnly reports whether r is a GET or HEAD, answering 405 otherwise.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
