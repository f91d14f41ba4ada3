package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stratadb/strata/client"
)

// newStreamCmd returns `strata stream` and its subcommands.
func newStreamCmd(conn *connOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "stream",
		Aliases: []string{"str"},
		Short:   "Create, inspect and remove streams; view and follow their messages",
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(
		(&streamAddOptions{conn: conn}).command(),
		(&streamEditOptions{conn: conn}).command(),
		(&streamInfoOptions{conn: conn}).command(),
		(&streamLsOptions{conn: conn}).command(),
		newStreamRmCmd(conn), newStreamPurgeCmd(conn),
		(&streamReportOptions{conn: conn}).command(),
		(&streamViewOptions{conn: conn}).command(),
		(&streamSubOptions{conn: conn}).command(),
		newStreamClusterCmd(conn),
	)
	return cmd
}

// configFlags are the stream configuration flags of add and edit.
type configFlags struct {
	subjects   []string
	replicas   int
	storage    string
	maxMsgs    int64
	maxBytes   byteSize
	maxAge     duration
	discard    string
	dupeWindow duration
	tags       []string
	maxMsgSize byteSize
	retention  string
}

func (c *configFlags) bind(f *pflag.FlagSet) {
	f.StringSliceVar(&c.subjects, "subjects", nil, "subjects the stream stores, repeatable or comma separated (default: the stream name)")
	f.IntVar(&c.replicas, "replicas", 1, "replicas: 1, 3 or 5")
	f.StringVar(&c.storage, "storage", "file", "storage: file or memory")
	f.Int64Var(&c.maxMsgs, "max-msgs", 0, "most messages kept (0: unlimited)")
	f.Var(&c.maxBytes, "max-bytes", "most bytes kept, e.g. 1GB or 512MiB (0: unlimited)")
	f.Var(&c.maxAge, "max-age", "oldest message kept, e.g. 1h or 30d (0: unlimited)")
	f.StringVar(&c.discard, "discard", "old", "at a limit: old (remove the oldest) or new (refuse the publish)")
	f.Var(&c.dupeWindow, "dupe-window", "how long message ids are remembered (0: 2m)")
	f.StringSliceVar(&c.tags, "tag", nil, "placement tag the servers must carry, e.g. az:a (repeatable)")
	f.Var(&c.maxMsgSize, "max-msg-size", "largest message accepted (0: unlimited)")
	f.StringVar(&c.retention, "retention", "limits",
		"when messages go besides the limits: limits (never), workqueue (once a consumer acked them) or interest (once every consumer that wants them did); cannot change")
}

// changed reports whether any configuration flag was given.
func (c *configFlags) changed(f *pflag.FlagSet) bool {
	for _, name := range []string{"subjects", "replicas", "storage", "max-msgs", "max-bytes",
		"max-age", "discard", "dupe-window", "tag", "max-msg-size", "retention"} {
		if f.Changed(name) {
			return true
		}
	}
	return false
}

// apply sets the fields of cfg whose flags were given (all when all is
// set) and validates them.
func (c *configFlags) apply(cfg *client.StreamConfig, f *pflag.FlagSet, all bool) error {
	set := func(name string) bool { return all || f.Changed(name) }
	if set("subjects") && len(c.subjects) > 0 {
		cfg.Subjects = c.subjects
	}
	if set("replicas") {
		if c.replicas != 1 && c.replicas != 3 && c.replicas != 5 {
			return fmt.Errorf("invalid --replicas %d: want 1, 3 or 5", c.replicas)
		}
		cfg.Replicas = c.replicas
	}
	if set("storage") {
		if c.storage != "file" && c.storage != "memory" {
			return fmt.Errorf("invalid --storage %q: want file or memory", c.storage)
		}
		cfg.Storage = c.storage
	}
	if set("discard") {
		if c.discard != "old" && c.discard != "new" {
			return fmt.Errorf("invalid --discard %q: want old or new", c.discard)
		}
		cfg.Discard = c.discard
	}
	if set("retention") {
		switch c.retention {
		case "limits", "workqueue", "interest":
		default:
			return fmt.Errorf("invalid --retention %q: want limits, workqueue or interest", c.retention)
		}
		cfg.Retention = c.retention
	}
	if set("max-msgs") {
		if c.maxMsgs < -1 {
			return fmt.Errorf("invalid --max-msgs %d", c.maxMsgs)
		}
		cfg.MaxMsgs = max(c.maxMsgs, 0)
	}
	if set("max-msg-size") {
		if c.maxMsgSize > 1<<31-1 {
			return fmt.Errorf("invalid --max-msg-size %s: at most 2 GiB", c.maxMsgSize.String())
		}
		cfg.MaxMsgSize = int32(c.maxMsgSize)
	}
	if set("max-bytes") {
		cfg.MaxBytes = int64(c.maxBytes)
	}
	if set("max-age") {
		cfg.MaxAge = time.Duration(c.maxAge)
	}
	if set("dupe-window") {
		cfg.DupeWindow = time.Duration(c.dupeWindow)
	}
	if set("tag") {
		cfg.Tags = c.tags
	}
	return nil
}

// showStream prints a stream after a change: as JSON, or a headline and
// the info.
func showStream(cmd *cobra.Command, si *client.StreamInfo, asJSON bool, headline string) error {
	if asJSON {
		return printJSON(cmd.OutOrStdout(), si)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s\n\n", headline)
	writeStreamInfo(cmd.OutOrStdout(), si)
	return nil
}
