// Command strata-plugin-file is the file storage plugin: raft-wal logs and
// stable state, and checksummed snapshots, on local disk. The node starts it;
// it is not run by hand.
package main

import (
	"github.com/stratadb/strata/plugins/file"
	"github.com/stratadb/strata/pluginsdk"
)

func main() { pluginsdk.Serve(file.New()) }
