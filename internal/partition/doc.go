// Package partition puts a network partition between two real peers in a
// test: a loopback TCP proxy that forwards to a backend until it is cut, then
// closes every connection through it and refuses new ones until it is
// mended, as a network outage or a firewall would.
package partition
