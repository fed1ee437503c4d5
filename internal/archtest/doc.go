// Package archtest holds no code, only a test that enforces the import rules
// of the design (DESIGN.md, Layout) over every package of the module: domains
// import only the standard library and each other, only cli wires the
// concrete stores and the server roles, bayeux knows nothing of chat, and
// every package under internal/ has a documented doc.go and an honest name.
//
// The test reads the source with go/parser, so it needs neither the go
// command nor a build of the packages it checks. Test files are exempt.
package archtest
