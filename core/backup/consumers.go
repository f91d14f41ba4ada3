package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/consumer"
)

// Consumer is a durable consumer as a backup keeps it (record type 3):
// its config and its replicated state (core/consumer.State as JSON),
// no further than the backup's last sequence.
type Consumer struct {
	Config client.ConsumerConfig `json:"config"`
	State  json.RawMessage       `json:"state"`
	// started is false for a consumer saved before its leader resolved
	// its start position: a restore creates it afresh from its config.
	started bool
}

// Name is the consumer's durable name.
func (c Consumer) Name() string { return c.Config.Durable }

// exportConsumers returns every durable consumer of stream, read on each
// consumer's leader. Save calls it before it reads the stream's view: a
// consumer's state is then no later than the view, so nothing the view
// holds counts as acked unless its ack returned before the backup began
// (a message acked meanwhile is delivered again after a restore, never
// skipped). A consumer deleted meanwhile is left out.
func exportConsumers(ctx context.Context, c *client.Client, stream string) ([]Consumer, error) {
	list, err := c.Consumers(ctx, stream)
	if errors.Is(err, client.ErrStreamNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("list consumers of %s: %w", stream, err)
	}
	var out []Consumer
	for _, ci := range list {
		if ci.Config.Durable == "" {
			continue // ephemeral: gone with its reader
		}
		exp, err := c.ExportConsumer(ctx, stream, ci.Config.Durable)
		if errors.Is(err, client.ErrConsumerNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("export consumer %s of %s: %w", ci.Config.Durable, stream, err)
		}
		out = append(out, Consumer{Config: exp.Config, State: exp.State})
	}
	return out, nil
}

// clamped returns c with its state cut at the stream's last sequence:
// deliveries past the backup's messages are forgotten.
func (c Consumer) clamped(last uint64) (Consumer, error) {
	var st consumer.State
	if err := json.Unmarshal(c.State, &st); err != nil {
		return Consumer{}, fmt.Errorf("consumer %s: state: %w", c.Name(), err)
	}
	data, err := json.Marshal(st.Clamp(last))
	if err != nil {
		return Consumer{}, err
	}
	c.State = data
	return c, nil
}

func (rw *recordWriter) consumer(c Consumer) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return rw.record(recConsumer, data)
}

// decodeConsumer decodes a consumer record and checks it can start a
// consumer of a stream that ends at last.
func decodeConsumer(p []byte, last uint64) (Consumer, error) {
	var c Consumer
	if err := json.Unmarshal(p, &c); err != nil {
		return Consumer{}, fmt.Errorf("%w: consumer record: %w", ErrCorrupt, err)
	}
	if c.Config.Durable == "" {
		return Consumer{}, fmt.Errorf("%w: consumer record without a durable name", ErrCorrupt)
	}
	var st consumer.State
	if err := json.Unmarshal(c.State, &st); err != nil {
		return Consumer{}, fmt.Errorf("%w: consumer %s: state: %w", ErrCorrupt, c.Name(), err)
	}
	if c.started = st.Started; !c.started {
		return c, nil
	}
	if err := st.CheckRestore(last); err != nil {
		return Consumer{}, fmt.Errorf("%w: consumer %s: %w", ErrCorrupt, c.Name(), err)
	}
	return c, nil
}

// restoreConsumers recreates the backup's consumers on the restored
// stream, each starting from its saved state. A consumer asks for no
// more replicas than the stream now has.
func restoreConsumers(ctx context.Context, c *client.Client, stream string, replicas int, cs []Consumer) error {
	for _, bc := range cs {
		cfg := bc.Config
		cfg.Name = cfg.Durable
		if cfg.Replicas > replicas {
			cfg.Replicas = 0 // the stream's
		}
		var err error
		if bc.started {
			_, err = c.RestoreConsumer(ctx, stream, cfg, bc.State)
		} else {
			_, err = c.AddConsumer(ctx, stream, cfg)
		}
		if err != nil {
			return fmt.Errorf("restore consumer %s: %w", cfg.Durable, err)
		}
	}
	return nil
}
