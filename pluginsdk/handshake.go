package pluginsdk

import (
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the version of the storage protocol this SDK speaks.
// A host refuses a plugin that speaks none of the versions it knows.
// Version 2 carries the logs of StoreLogs and GetLogs as one encoded
// field (logcodec.go) instead of a message per log, and drops GetLog.
const ProtocolVersion = 2

// PluginName is the name of the storage plugin in go-plugin's plugin set.
const PluginName = "storage"

// Handshake is shared by host and plugin. It is not a security measure: it
// stops a user from running a plugin binary by hand and tells a host it has
// started something that is a Strata storage plugin.
var Handshake = plugin.HandshakeConfig{
	// ProtocolVersion is the base version; VersionedPlugins negotiates.
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "STRATA_STORAGE_PLUGIN",
	MagicCookieValue: "5b1c0f6e6a3c4d1e9f7a2b8c0d4e6f10",
}

// VersionedPlugins is the plugin set of every protocol version this SDK
// serves or accepts. impl is nil on the host side.
func VersionedPlugins(impl Plugin, logger hclog.Logger) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{Impl: impl, Logger: logger}},
	}
}
