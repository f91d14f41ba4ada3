// Command strata-plugin-badger is the Badger storage plugin: raft logs and
// stable state of every group of a node in one Badger DB.
package main

import (
	"github.com/stratadb/strata/plugins/badger"
	"github.com/stratadb/strata/pluginsdk"
)

func main() { pluginsdk.Serve(badger.New()) }
