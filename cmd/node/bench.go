package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// newBenchCmd returns `strata bench` and its subcommands.
func newBenchCmd(conn *connOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the cluster's throughput and latency",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand((&benchPubOptions{conn: conn}).command(), (&benchConsumeOptions{conn: conn}).command())
	return cmd
}

// benchPubOptions are `strata bench pub`'s flags.
type benchPubOptions struct {
	conn       *connOptions
	subject    string
	stream     string
	storage    string
	replicas   int
	msgs       int
	size       int
	clients    int
	batch      int
	sync       bool
	async      bool
	noProgress bool
	keep       bool
	json       bool

	// until, when set, ends an async publisher's run early once closed
	// (bench consume --publish-while); Msgs then counts what was sent.
	until <-chan struct{}
}

func (o *benchPubOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pub SUBJECT",
		Short: "Publish messages as fast as the cluster acks them",
		Long: "Publish --msgs messages of --size bytes to SUBJECT from --clients clients and\n" +
			"report the rate and the ack latency. --sync waits for each ack; --async (the\n" +
			"default) keeps up to --batch acks outstanding per client. The stream (subjects:\n" +
			"SUBJECT) is created unless it exists, and deleted afterwards if this run created\n" +
			"it, unless --keep.",
		Example: "  strata bench pub ORDERS.bench --replicas 3 --msgs 200000 --size 128 --async --batch 500",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.subject = args[0]
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.stream, "stream", "benchstream", "stream to publish to")
	f.StringVar(&o.storage, "storage", "file", "storage of a created stream: file or memory")
	f.IntVar(&o.replicas, "replicas", 1, "replicas of a created stream: 1, 3 or 5")
	f.IntVar(&o.msgs, "msgs", 100000, "messages to publish in all")
	f.IntVar(&o.size, "size", 128, "payload size in bytes")
	f.IntVar(&o.clients, "clients", 1, "concurrent publishers, each with its own connection")
	f.IntVar(&o.batch, "batch", 100, "acks outstanding per client with --async")
	f.BoolVar(&o.sync, "sync", false, "wait for each ack before the next publish")
	f.BoolVar(&o.async, "async", false, "keep up to --batch acks outstanding (the default)")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress bar")
	f.BoolVar(&o.keep, "keep", false, "keep the stream afterwards")
	f.BoolVar(&o.json, "json", false, "print the results as JSON")
	cmd.MarkFlagsMutuallyExclusive("sync", "async")
	return cmd
}

// validate checks the flags before anything is sent.
func (o *benchPubOptions) validate() error {
	return benchLoad{msgs: o.msgs, size: o.size, batch: o.batch, replicas: o.replicas, storage: o.storage}.
		validate("--clients", o.clients)
}

// benchLoad is what bench pub and bench consume both take: how many
// messages of what size, in batches of what size, on what stream.
type benchLoad struct {
	msgs, size, batch, replicas int
	storage                     string
}

// validate checks l and the count of workers, flag workersFlag.
func (l benchLoad) validate(workersFlag string, workers int) error {
	switch {
	case l.msgs < 1:
		return fmt.Errorf("invalid --msgs %d: want at least 1", l.msgs)
	case l.size < 0:
		return fmt.Errorf("invalid --size %d", l.size)
	case workers < 1 || workers > l.msgs:
		return fmt.Errorf("invalid %s %d: want 1 to --msgs", workersFlag, workers)
	case l.batch < 1:
		return fmt.Errorf("invalid --batch %d: want at least 1", l.batch)
	case l.replicas != 1 && l.replicas != 3 && l.replicas != 5:
		return fmt.Errorf("invalid --replicas %d: want 1, 3 or 5", l.replicas)
	case l.storage != "file" && l.storage != "memory":
		return fmt.Errorf("invalid --storage %q: want file or memory", l.storage)
	}
	return nil
}

func (o *benchPubOptions) mode() string {
	if o.sync {
		return "sync"
	}
	return "async"
}

func (o *benchPubOptions) run(cmd *cobra.Command) error {
	if err := o.validate(); err != nil {
		return err
	}
	addrs, err := o.conn.addrs()
	if err != nil {
		return err
	}
	ctx, cancel := o.conn.context(cmd)
	defer cancel()
	admin, err := o.conn.connectTo(ctx, addrs)
	if err != nil {
		return err
	}
	defer admin.Close()
	created, err := o.ensureStream(ctx, admin)
	if err != nil {
		return err
	}
	if created && !o.keep {
		defer o.deleteStream(cmd, admin)
	}
	w := cmd.OutOrStdout()
	if !o.json {
		fmt.Fprintf(w, "Starting benchmark [subject=%s, stream=%s, replicas=%d, storage=%s, msgs=%s, size=%s, clients=%d, mode=%s, batch=%d]\n\n",
			o.subject, o.stream, o.replicas, o.storage, count(o.msgs), size(uint64(o.size)), o.clients, o.mode(), o.batch)
	}
	bar := o.progress(cmd)
	res, err := o.runClients(cmd.Context(), addrs, bar.add)
	bar.finish()
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(w, res)
	}
	res.write(w)
	return nil
}

// ensureStream creates the stream unless it exists; it reports whether it did.
func (o *benchPubOptions) ensureStream(ctx context.Context, c *client.Client) (bool, error) {
	_, err := c.StreamInfo(ctx, o.stream)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, client.ErrStreamNotFound) {
		return false, err
	}
	_, err = c.AddStream(ctx, client.StreamConfig{
		Name: o.stream, Subjects: []string{o.subject}, Replicas: o.replicas, Storage: o.storage,
	})
	return err == nil, err
}

func (o *benchPubOptions) deleteStream(cmd *cobra.Command, c *client.Client) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), max(o.conn.timeout, 5*time.Second))
	defer cancel()
	if err := c.DeleteStream(ctx, o.stream); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "strata: deleting stream %s: %v\n", o.stream, err)
	}
}

// progressBar shows published messages on a terminal; it does nothing
// with --no-progress, --json or when stderr is not a terminal.
type progressBar struct{ bar *progressbar.ProgressBar }

func (o *benchPubOptions) progress(cmd *cobra.Command) progressBar {
	return newProgress(cmd, o.noProgress || o.json, o.msgs, "Publishing")
}

// newProgress returns a progress bar of total messages on stderr, or one
// that does nothing when off or when stderr is not a terminal.
func newProgress(cmd *cobra.Command, off bool, total int, what string) progressBar {
	if off || !isTerminal(cmd.ErrOrStderr()) {
		return progressBar{}
	}
	return progressBar{progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(cmd.ErrOrStderr()),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("msgs"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())}
}

func (p progressBar) add(n int) {
	if p.bar != nil {
		p.bar.Add(n)
	}
}

func (p progressBar) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
