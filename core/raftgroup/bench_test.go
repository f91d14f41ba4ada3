package raftgroup

import "testing"

func BenchmarkApply3Node(b *testing.B) {
	BenchApply(b, InmemStores)
}
