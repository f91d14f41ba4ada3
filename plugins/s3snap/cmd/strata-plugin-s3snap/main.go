// Command strata-plugin-s3snap is the S3 snapshot storage plugin: Raft
// snapshots zstd-compressed and streamed to an S3 bucket (credentials from
// the AWS environment). The node starts it; it is not run by hand.
package main

import (
	"github.com/stratadb/strata/plugins/s3snap"
	"github.com/stratadb/strata/pluginsdk"
)

func main() { pluginsdk.Serve(s3snap.New()) }
