// Package testenv owns what a test may ask of the machine it runs on: a
// database, a program on PATH, a browser, time for a long run. A test states
// what it needs with Need; when the need is not met the test is skipped with
// the reason, or fails when the require-everything switch
// (PARLEY_REQUIRE_ALL=1, set by CI) is on, so that nothing is skipped
// silently where every test is meant to run.
//
// Only tests and test support packages (store/storetest) import it; the
// import rules in archtest hold that.
package testenv
