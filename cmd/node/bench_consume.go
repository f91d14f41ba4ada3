package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// benchConsumerMark is the description of the consumers bench consume
// makes: one with it may be deleted and made again, another may not.
const benchConsumerMark = "strata bench consume"

// benchConsumeOptions are `strata bench consume`'s flags.
type benchConsumeOptions struct {
	conn       *connOptions
	stream     string
	subject    string
	consumer   string
	storage    string
	replicas   int
	msgs       int
	size       int
	workers    int
	batch      int
	ack        string
	expires    time.Duration
	noProgress bool
	keep       bool
	json       bool

	publishWhile  bool
	publishStream string
	publishBatch  int
	publishMax    int
}

func (o *benchConsumeOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consume STREAM",
		Short: "Consume a stream's messages through a durable pull consumer as fast as it delivers them",
		Long: "Consume --msgs messages of STREAM through one durable pull consumer shared by\n" +
			"--consumers workers, each on its own connection pulling batches of up to --batch\n" +
			"messages (like `nats bench js consume --clients N`), and report the rate and the\n" +
			"latency of each pull. With --ack explicit (the default) each pulled batch is acked\n" +
			"in one AckBatch call, sent while the next batch is pulled; --ack none makes a\n" +
			"consumer that expects no acks.\n\n" +
			"STREAM (subjects: --subject) is created unless it exists, and filled with --msgs\n" +
			"messages of --size bytes unless it holds that many already. The consumer starts\n" +
			"at the stream's first message, so each run reads the same messages; it is made\n" +
			"afresh and deleted afterwards, and so is a stream this run created, unless --keep.\n\n" +
			"--publish-while runs an async publisher (one client, --publish-batch acks\n" +
			"outstanding) to a second stream, --publish-stream, for as long as the consume\n" +
			"lasts, and reports its rate: compare it with `strata bench pub` alone.",
		Example: "  strata bench consume BENCH --replicas 3 --msgs 200000 --size 128 --batch 500\n" +
			"  strata bench consume BENCH --consumers 4 --ack none\n" +
			"  strata bench consume BENCH --publish-while --publish-batch 2000",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stream = args[0]
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.subject, "subject", "", "subject to fill the stream on (default: a created stream's STREAM.bench, an existing one's only subject)")
	f.StringVar(&o.consumer, "consumer", "strata-bench", "name of the durable consumer to make")
	f.StringVar(&o.storage, "storage", "file", "storage of created streams: file or memory")
	f.IntVar(&o.replicas, "replicas", 3, "replicas of created streams: 1, 3 or 5 (the consumer has its stream's)")
	f.IntVar(&o.msgs, "msgs", 100000, "messages to consume in all")
	f.IntVar(&o.size, "size", 128, "payload size in bytes of the messages filled in")
	f.IntVar(&o.workers, "consumers", 1, "concurrent workers pulling from the one consumer, each with its own connection")
	f.IntVar(&o.batch, "batch", 500, "messages one pull asks for at most")
	f.StringVar(&o.ack, "ack", client.AckExplicitPolicy, "acks: explicit (one AckBatch per pulled batch) or none")
	f.DurationVar(&o.expires, "expires", 10*time.Second, "how long a pull waits for its batch; a pull that gets nothing fails the run")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress bar")
	f.BoolVar(&o.keep, "keep", false, "keep the consumer and the streams this run created")
	f.BoolVar(&o.json, "json", false, "print the results as JSON")
	f.BoolVar(&o.publishWhile, "publish-while", false, "publish to --publish-stream while consuming, and report the publish rate")
	f.StringVar(&o.publishStream, "publish-stream", "", "stream --publish-while publishes to (default STREAM_PUB; subject: its name and .bench)")
	f.IntVar(&o.publishBatch, "publish-batch", 2000, "acks outstanding of the --publish-while publisher")
	f.IntVar(&o.publishMax, "publish-max", 10_000_000, "messages --publish-while publishes at most (it stops when the consume ends)")
	return cmd
}

// validate checks the flags before anything is sent.
func (o *benchConsumeOptions) validate() error {
	load := benchLoad{msgs: o.msgs, size: o.size, batch: o.batch, replicas: o.replicas, storage: o.storage}
	if err := load.validate("--consumers", o.workers); err != nil {
		return err
	}
	switch {
	case o.ack != client.AckExplicitPolicy && o.ack != client.AckNonePolicy:
		return fmt.Errorf("invalid --ack %q: want explicit or none", o.ack)
	case o.expires <= 0:
		return fmt.Errorf("invalid --expires %s: want more than 0", o.expires)
	case o.consumer == "":
		return errors.New("invalid --consumer: empty")
	case o.publishWhile && (o.publishBatch < 1 || o.publishMax < 1):
		return fmt.Errorf("invalid --publish-batch %d or --publish-max %d: want at least 1", o.publishBatch, o.publishMax)
	}
	if o.publishStream == "" {
		o.publishStream = o.stream + "_PUB"
	}
	if o.publishWhile && o.publishStream == o.stream {
		return fmt.Errorf("invalid --publish-stream %s: it is the stream consumed", o.publishStream)
	}
	return nil
}

// benchConsumeResult is a consume run's outcome, printed as text or JSON.
type benchConsumeResult struct {
	Stream       string        `json:"stream"`
	Consumer     string        `json:"consumer"`
	Ack          string        `json:"ack"`
	Batch        int           `json:"batch"`
	Replicas     int           `json:"replicas"`
	Msgs         int           `json:"msgs"`
	Size         int           `json:"size"`
	Duration     time.Duration `json:"duration_ns"`
	MsgsPerSec   float64       `json:"msgs_per_sec"`
	BytesPerSec  float64       `json:"bytes_per_sec"`
	FetchLatency latencyStats  `json:"fetch_latency"`
	// AckLatency is of the AckBatch calls (--ack explicit).
	AckLatency *latencyStats `json:"ack_latency,omitempty"`
	Workers    []benchClient `json:"workers"`
	// Filled is the publishing that filled the stream first, if any.
	Filled *benchResult `json:"filled,omitempty"`
	// PublishWhile is the publisher of --publish-while.
	PublishWhile *benchResult `json:"publish_while,omitempty"`
}

func (o *benchConsumeOptions) run(cmd *cobra.Command) error {
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
	w := cmd.OutOrStdout()
	res := &benchConsumeResult{Stream: o.stream, Consumer: o.consumer, Ack: o.ack, Batch: o.batch, Size: o.size}

	si, created, err := o.ensureStream(ctx, admin)
	if err != nil {
		return err
	}
	if created && !o.keep {
		defer o.deleteStream(cmd, admin, o.stream)
	}
	res.Replicas = si.Config.Replicas
	if have := int(si.State.Msgs); have < o.msgs {
		if res.Filled, err = o.fill(cmd, addrs, si, o.msgs-have); err != nil {
			return err
		}
		if !o.json {
			fmt.Fprintf(w, "Filled stream %s with %s messages of %s: ", o.stream, count(res.Filled.Msgs), size(uint64(o.size)))
			res.Filled.write(w)
			fmt.Fprintln(w)
		}
	}

	var pub *benchPubOptions
	if o.publishWhile {
		pub = &benchPubOptions{
			conn: o.conn, subject: o.publishStream + ".bench", stream: o.publishStream, storage: o.storage,
			replicas: o.replicas, msgs: o.publishMax, size: o.size, clients: 1, batch: o.publishBatch, async: true,
		}
		pctx, pcancel := o.conn.context(cmd)
		pcreated, err := pub.ensureStream(pctx, admin)
		pcancel()
		if err != nil {
			return fmt.Errorf("publish stream %s: %w", o.publishStream, err)
		}
		if pcreated && !o.keep {
			defer o.deleteStream(cmd, admin, o.publishStream)
		}
	}

	if err := o.makeConsumer(cmd, admin); err != nil {
		return err
	}
	if !o.keep {
		defer o.deleteConsumer(cmd, admin)
	}
	if !o.json {
		fmt.Fprintf(w, "Starting consume benchmark [stream=%s, consumer=%s, replicas=%d, msgs=%s, consumers=%d, batch=%d, ack=%s%s]\n\n",
			o.stream, o.consumer, res.Replicas, count(o.msgs), o.workers, o.batch, o.ack, o.publishWhileBanner())
	}

	bar := newProgress(cmd, o.noProgress || o.json, o.msgs, "Consuming")
	stop := make(chan struct{})
	pubDone := make(chan error, 1)
	if pub != nil {
		pub.until = stop
		go func() {
			var err error
			res.PublishWhile, err = pub.runClients(cmd.Context(), addrs, func(int) {})
			pubDone <- err
		}()
	}
	err = o.runWorkers(cmd.Context(), addrs, bar.add, res)
	close(stop)
	bar.finish()
	if pub != nil {
		if perr := <-pubDone; err == nil && perr != nil {
			err = fmt.Errorf("publishing while consuming: %w", perr)
		}
	}
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(w, res)
	}
	res.write(w)
	return nil
}

func (o *benchConsumeOptions) publishWhileBanner() string {
	if !o.publishWhile {
		return ""
	}
	return fmt.Sprintf(", publish-while=%s (batch %d)", o.publishStream, o.publishBatch)
}

// ensureStream returns the stream's info, creating the stream unless it
// exists; created reports whether it did.
func (o *benchConsumeOptions) ensureStream(ctx context.Context, c *client.Client) (*client.StreamInfo, bool, error) {
	si, err := c.StreamInfo(ctx, o.stream)
	if err == nil {
		return si, false, nil
	}
	if !errors.Is(err, client.ErrStreamNotFound) {
		return nil, false, err
	}
	subject := o.subject
	if subject == "" {
		subject = o.stream + ".bench"
	}
	si, err = c.AddStream(ctx, client.StreamConfig{
		Name: o.stream, Subjects: []string{subject}, Replicas: o.replicas, Storage: o.storage,
	})
	if err != nil {
		return nil, false, err
	}
	return si, true, nil
}

// fill publishes n messages to the stream, as `bench pub --async` does.
func (o *benchConsumeOptions) fill(cmd *cobra.Command, addrs []string, si *client.StreamInfo, n int) (*benchResult, error) {
	subject := o.subject
	if subject == "" {
		subjects := si.Config.Subjects
		if len(subjects) != 1 || strings.ContainsAny(subjects[0], "*>") {
			return nil, fmt.Errorf("stream %s holds %d messages, fewer than --msgs %d: pass --subject to fill it on",
				o.stream, si.State.Msgs, o.msgs)
		}
		subject = subjects[0]
	}
	pub := &benchPubOptions{
		conn: o.conn, subject: subject, stream: o.stream, msgs: n, size: o.size, clients: 1, batch: 2000, async: true,
	}
	bar := newProgress(cmd, o.noProgress || o.json, n, "Filling")
	defer bar.finish()
	res, err := pub.runClients(cmd.Context(), addrs, bar.add)
	if err != nil {
		return nil, fmt.Errorf("filling stream %s: %w", o.stream, err)
	}
	return res, nil
}

// makeConsumer makes the bench's durable consumer afresh, deleting one
// left by an earlier run; a consumer of that name made otherwise is an
// error, not deleted.
func (o *benchConsumeOptions) makeConsumer(cmd *cobra.Command, c *client.Client) error {
	ctx, cancel := o.conn.context(cmd)
	defer cancel()
	ci, err := c.ConsumerInfo(ctx, o.stream, o.consumer)
	switch {
	case err == nil && ci.Config.Description != benchConsumerMark:
		return fmt.Errorf("consumer %s of stream %s exists and was not made by strata bench: pick another --consumer", o.consumer, o.stream)
	case err == nil:
		if err := c.DeleteConsumer(ctx, o.stream, o.consumer); err != nil {
			return err
		}
	case !errors.Is(err, client.ErrConsumerNotFound):
		return err
	}
	cfg := client.ConsumerConfig{
		Durable: o.consumer, Description: benchConsumerMark,
		DeliverPolicy: client.DeliverAllPolicy, AckPolicy: o.ack,
	}
	if o.ack == client.AckExplicitPolicy {
		// Each worker has at most two batches unacked: one whose acks
		// are on their way, one being pulled.
		cfg.MaxAckPending = 2 * o.batch * o.workers
	}
	_, err = c.AddConsumer(ctx, o.stream, cfg)
	return err
}

func (o *benchConsumeOptions) deleteConsumer(cmd *cobra.Command, c *client.Client) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), max(o.conn.timeout, 5*time.Second))
	defer cancel()
	if err := c.DeleteConsumer(ctx, o.stream, o.consumer); err != nil && !errors.Is(err, client.ErrStreamNotFound) {
		fmt.Fprintf(cmd.ErrOrStderr(), "strata: deleting consumer %s: %v\n", o.consumer, err)
	}
}

func (o *benchConsumeOptions) deleteStream(cmd *cobra.Command, c *client.Client, name string) {
	(&benchPubOptions{conn: o.conn, stream: name}).deleteStream(cmd, c)
}

// runWorkers consumes o.msgs messages with o.workers workers, each on its
// own connection, and fills in res.
func (o *benchConsumeOptions) runWorkers(ctx context.Context, addrs []string, progress func(int), res *benchConsumeResult) error {
	conns, closeAll, err := o.conn.connectClients(ctx, addrs, o.workers)
	if err != nil {
		return err
	}
	defer closeAll()
	workers := make([]benchClient, o.workers)
	acks := make([][]time.Duration, o.workers)
	err = runEach(ctx, o.workers, func(ctx context.Context, i int) error {
		var err error
		workers[i], acks[i], err = o.consume(ctx, conns[i], share(o.msgs, o.workers, i), progress)
		return err
	})
	if err != nil {
		return err
	}
	res.Workers = workers
	res.Msgs, res.Duration, res.MsgsPerSec, res.BytesPerSec, res.FetchLatency = aggregate(workers, o.size)
	if o.ack == client.AckExplicitPolicy {
		var all []time.Duration
		for _, a := range acks {
			all = append(all, a...)
		}
		l := percentiles(all)
		res.AckLatency = &l
	}
	return nil
}

// consume pulls n messages in batches of up to o.batch; with explicit
// acks, each batch's acks go in one AckBatch call, made while the next
// batch is pulled. A worker's time runs from its first pull to the answer
// to its last acks; a pull's latency from its request to its last message.
func (o *benchConsumeOptions) consume(ctx context.Context, c *client.Client, n int, progress func(int)) (benchClient, []time.Duration, error) {
	r := benchClient{Msgs: n, latencies: make([]time.Duration, 0, n/o.batch+1)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		ackLat []time.Duration
		acks   chan []client.Ack // unbuffered: a batch is taken once the previous one is acked
		acked  = make(chan error, 1)
	)
	if o.ack == client.AckExplicitPolicy {
		acks = make(chan []client.Ack)
		go func() {
			var first error
			for batch := range acks {
				if first != nil {
					continue
				}
				t0 := time.Now()
				if _, _, err := c.AckBatch(ctx, o.stream, o.consumer, batch); err != nil {
					first = fmt.Errorf("acks of %d messages: %w", len(batch), err)
					cancel()
					continue
				}
				ackLat = append(ackLat, time.Since(t0))
			}
			acked <- first
		}()
	}
	r.start = time.Now()
	var err error
	for got := 0; got < n; {
		t0 := time.Now()
		var ms []*client.ConsumerMsg
		ms, err = c.Fetch(ctx, o.stream, o.consumer, client.FetchOptions{Batch: min(o.batch, n-got), Expires: o.expires})
		if err == nil && len(ms) == 0 {
			err = fmt.Errorf("no message from consumer %s within %s (%s of %s received)", o.consumer, o.expires, count(got), count(n))
		}
		if err != nil {
			break
		}
		r.latencies = append(r.latencies, time.Since(t0))
		got += len(ms)
		progress(len(ms))
		if acks != nil {
			batch := make([]client.Ack, len(ms))
			for i, m := range ms {
				batch[i] = client.Ack{Seq: m.Seq}
			}
			acks <- batch
		}
	}
	if acks != nil {
		close(acks)
		if aerr := <-acked; aerr != nil {
			err = aerr // the cause: it cancelled the pulls
		}
	}
	r.end = time.Now()
	return r, ackLat, err
}

// write prints the results like `nats bench`.
func (r *benchConsumeResult) write(w io.Writer) {
	writeRates(w, "Consume stats", r.MsgsPerSec, r.BytesPerSec, r.Workers)
	writeLatency(w, "Fetch latency", r.FetchLatency)
	if r.AckLatency != nil {
		writeLatency(w, "AckBatch latency", *r.AckLatency)
	}
	if p := r.PublishWhile; p != nil {
		fmt.Fprintf(w, "\nPublished to %s while consuming: %s msgs in %s\n", p.Stream, count(p.Msgs), p.Duration.Round(time.Millisecond))
		p.write(w)
	}
}
