// Package systemtest holds Strata's system tests: several node processes
// on 127.0.0.1, each running Raft groups on real storage plugin
// subprocesses, driven and killed from the test. The test binary is also
// the node program: started with STRATA_SYSTEST_NODE set it runs a node
// (see node.go) instead of the tests.
package systemtest
