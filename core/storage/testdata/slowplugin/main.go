// Command slowplugin is the file plugin with every store call made slower
// by the delay its config names ({"delay": "100ms"}), for the host's tests
// of slow storage (storetest.Slow).
package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/stratadb/strata/plugins/file"
	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

type plugin struct{ storetest.Slow }

// Configure reads the delay and configures the file plugin with its
// defaults.
func (p *plugin) Configure(req pluginsdk.ConfigureRequest) error {
	var c struct {
		Delay string `json:"delay"`
	}
	if err := pluginsdk.DecodeConfig(req.Config, &c); err != nil {
		return err
	}
	d, err := time.ParseDuration(c.Delay)
	if err != nil {
		return fmt.Errorf("config key \"delay\": %w", err)
	}
	p.Delay, req.Config = d, json.RawMessage(`{}`)
	return p.Plugin.Configure(req)
}

func main() { pluginsdk.Serve(&plugin{storetest.Slow{Plugin: file.New()}}) }
