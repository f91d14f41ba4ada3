package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stratadb/strata/client"
)

// newConsumerCmd returns `strata consumer` and its subcommands.
func newConsumerCmd(conn *connOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "consumer",
		Aliases: []string{"con", "consumers"},
		Short:   "Create, inspect and remove a stream's consumers; pull their messages",
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(
		(&consumerAddOptions{conn: conn}).command(),
		(&consumerEditOptions{conn: conn}).command(),
		(&consumerInfoOptions{conn: conn}).command(),
		(&consumerLsOptions{conn: conn}).command(),
		newConsumerRmCmd(conn),
		(&consumerReportOptions{conn: conn}).command(),
		(&consumerNextOptions{conn: conn}).command(),
		(&consumerSubOptions{conn: conn}).command(),
		newConsumerClusterCmd(conn),
	)
	return cmd
}

// consumerFlags are the consumer configuration flags of add and edit:
// edit binds only the ones that may change.
type consumerFlags struct {
	description string
	ackWait     duration
	maxDeliver  int
	backoff     durationList
	maxPending  int
	maxWaiting  int

	ack         string
	deliver     string
	filters     []string
	replicas    int
	headersOnly bool
}

// mutableFlags are the flags of what an existing consumer may change.
var mutableFlags = []string{"description", "ack-wait", "max-deliver", "backoff", "max-pending", "max-waiting"}

func (c *consumerFlags) bindMutable(f *pflag.FlagSet) {
	f.StringVar(&c.description, "description", "", "what the consumer is for")
	f.Var(&c.ackWait, "ack-wait", "how long a delivery waits for its ack before the message goes again (default 30s)")
	f.IntVar(&c.maxDeliver, "max-deliver", 0, "most deliveries of one message (0 or -1: unlimited)")
	f.Var(&c.backoff, "backoff", "ack waits of the first, second, ... delivery, e.g. 1s,5s,30s (the last repeats; overrides --ack-wait)")
	f.IntVar(&c.maxPending, "max-pending", 0, "most deliveries awaiting an ack (default 1000)")
	f.IntVar(&c.maxWaiting, "max-waiting", 0, "most pull requests waiting at once (default 512)")
}

func (c *consumerFlags) bindCreate(f *pflag.FlagSet) {
	c.bindMutable(f)
	f.StringVar(&c.ack, "ack", "explicit", "acks expected: explicit (each message), all (an ack covers the earlier ones) or none")
	f.StringVar(&c.deliver, "deliver", "all",
		"where to start: all, last, new, last-per-subject, a stream sequence (100), an RFC3339 time or a duration ago (1h)")
	f.StringSliceVar(&c.filters, "filter", nil, "deliver only messages on subjects matching this filter (repeatable)")
	f.IntVar(&c.replicas, "replicas", 0, "replicas of the consumer's state (0: the stream's)")
	f.BoolVar(&c.headersOnly, "headers-only", false, "deliver the headers and not the payloads")
}

// changed reports whether any of the mutable flags was given.
func (c *consumerFlags) changed(f *pflag.FlagSet) bool {
	for _, name := range mutableFlags {
		if f.Changed(name) {
			return true
		}
	}
	return false
}

// applyMutable sets the fields of cfg whose flags were given (all when
// all is set) and validates them.
func (c *consumerFlags) applyMutable(cfg *client.ConsumerConfig, f *pflag.FlagSet, all bool) error {
	set := func(name string) bool { return all || f.Changed(name) }
	if set("description") {
		cfg.Description = c.description
	}
	if set("ack-wait") {
		cfg.AckWait = time.Duration(c.ackWait)
	}
	if set("max-deliver") {
		if c.maxDeliver < -1 {
			return fmt.Errorf("invalid --max-deliver %d: want 0 or -1 (unlimited) or more", c.maxDeliver)
		}
		cfg.MaxDeliver = max(c.maxDeliver, 0)
	}
	if set("backoff") {
		cfg.Backoff = c.backoff
	}
	if set("max-pending") {
		if c.maxPending < 0 {
			return fmt.Errorf("invalid --max-pending %d: want 1 or more", c.maxPending)
		}
		cfg.MaxAckPending = c.maxPending
	}
	if set("max-waiting") {
		if c.maxWaiting < 0 {
			return fmt.Errorf("invalid --max-waiting %d: want 1 or more", c.maxWaiting)
		}
		cfg.MaxWaiting = c.maxWaiting
	}
	return nil
}

// applyCreate sets every field of a new consumer's cfg from the flags.
func (c *consumerFlags) applyCreate(cfg *client.ConsumerConfig, f *pflag.FlagSet, now time.Time) error {
	if err := c.applyMutable(cfg, f, true); err != nil {
		return err
	}
	ack, err := parseAck(c.ack)
	if err != nil {
		return err
	}
	cfg.AckPolicy = ack
	if err := parseDeliver(c.deliver, now, cfg); err != nil {
		return err
	}
	if c.replicas < 0 {
		return fmt.Errorf("invalid --replicas %d: want 0 (the stream's) or more", c.replicas)
	}
	cfg.FilterSubjects, cfg.Replicas, cfg.HeadersOnly = c.filters, c.replicas, c.headersOnly
	return nil
}

func parseAck(s string) (string, error) {
	switch s {
	case client.AckExplicitPolicy, client.AckAllPolicy, client.AckNonePolicy:
		return s, nil
	}
	return "", fmt.Errorf("invalid --ack %q: want explicit, all or none", s)
}

// parseDeliver sets cfg's deliver policy from --deliver: a policy name,
// a start sequence, an RFC3339 start time or a duration before now.
func parseDeliver(s string, now time.Time, cfg *client.ConsumerConfig) error {
	s = strings.TrimSpace(s)
	switch strings.ReplaceAll(strings.ToLower(s), "_", "-") {
	case "all", "":
		cfg.DeliverPolicy = client.DeliverAllPolicy
		return nil
	case "last":
		cfg.DeliverPolicy = client.DeliverLastPolicy
		return nil
	case "new":
		cfg.DeliverPolicy = client.DeliverNewPolicy
		return nil
	case "last-per-subject":
		cfg.DeliverPolicy = client.DeliverLastPerSubjectPolicy
		return nil
	}
	if seq, err := strconv.ParseUint(s, 10, 64); err == nil {
		if seq == 0 {
			return fmt.Errorf("invalid --deliver 0: sequences start at 1")
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = client.DeliverByStartSequencePolicy, seq
		return nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		cfg.DeliverPolicy, cfg.OptStartTime = client.DeliverByStartTimePolicy, t.UTC()
		return nil
	}
	var ago duration
	if err := ago.Set(s); err == nil && ago > 0 {
		cfg.DeliverPolicy, cfg.OptStartTime = client.DeliverByStartTimePolicy, now.Add(-time.Duration(ago)).UTC()
		return nil
	}
	return fmt.Errorf("invalid --deliver %q: want all, last, new, last-per-subject, a start sequence (100), an RFC3339 time or a duration ago (1h)", s)
}

// writeConsumerInfo writes a consumer like `nats consumer info`.
func writeConsumerInfo(w io.Writer, ci *client.ConsumerInfo) {
	fmt.Fprintf(w, "Information for Consumer %s > %s created %s\n\n", ci.Stream, ci.Name(), stamp(ci.Created))
	var s sections
	cfg := ci.Config
	s.section("Configuration:")
	s.add("Name", "%s", ci.Name())
	if cfg.Durable == "" {
		s.add("Durable", "no: removed after %s without pulls", cfg.InactiveThreshold)
	}
	if cfg.Description != "" {
		s.add("Description", "%s", cfg.Description)
	}
	s.add("Pull Mode", "true")
	s.add("Deliver Policy", "%s", deliverPolicy(cfg))
	s.add("Ack Policy", "%s", title(cfg.AckPolicy, client.AckExplicitPolicy))
	s.add("Ack Wait", "%s", cfg.AckWait)
	s.add("Max Deliver", "%s", limit(int64(cfg.MaxDeliver), false))
	if len(cfg.Backoff) > 0 {
		s.add("Backoff", "%s", durations(cfg.Backoff))
	}
	s.add("Max Ack Pending", "%s", count(cfg.MaxAckPending))
	if len(cfg.FilterSubjects) > 0 {
		s.add("Filter Subjects", "%s", strings.Join(cfg.FilterSubjects, ", "))
	}
	if cfg.HeadersOnly {
		s.add("Headers Only", "true")
	}
	s.add("Max Waiting", "%s", count(cfg.MaxWaiting))
	s.add("Replicas", "%d", cfg.Replicas)

	s.cluster(ci.Cluster)

	st := ci.State
	s.section("State:")
	s.add("Last Delivered Message", "%s", seqPair(st.Delivered))
	s.add("Acknowledgment Floor", "%s", seqPair(st.AckFloor))
	s.add("Outstanding Acks", "%s out of maximum %s", count(st.AckPending), count(cfg.MaxAckPending))
	s.add("Redelivered Messages", "%s", count(st.Redelivered))
	s.add("Unprocessed Messages", "%s", count(st.Unprocessed))
	s.add("Waiting Pulls", "%s of maximum %s", count(st.Waiting), count(cfg.MaxWaiting))
	s.write(w)
}

// deliverPolicy is a consumer's start: "All", "From Sequence 100", ...
func deliverPolicy(cfg client.ConsumerConfig) string {
	switch cfg.DeliverPolicy {
	case client.DeliverByStartSequencePolicy:
		return fmt.Sprintf("From Sequence %d", cfg.OptStartSeq)
	case client.DeliverByStartTimePolicy:
		return fmt.Sprintf("Since %s", stamp(cfg.OptStartTime))
	case client.DeliverLastPerSubjectPolicy:
		return "Last Per Subject"
	}
	return title(cfg.DeliverPolicy, client.DeliverAllPolicy)
}

func seqPair(p client.SequencePair) string {
	return fmt.Sprintf("Consumer sequence: %s Stream sequence: %s", count(p.Consumer), count(p.Stream))
}

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ", ")
}

// showConsumer prints a consumer after a change: as JSON, or a headline
// and the info.
func showConsumer(cmd *cobra.Command, ci *client.ConsumerInfo, asJSON bool, headline string) error {
	if asJSON {
		return printJSON(cmd.OutOrStdout(), ci)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s\n\n", headline)
	writeConsumerInfo(cmd.OutOrStdout(), ci)
	return nil
}

// writeConsumerMsg writes the i-th message a command received: a line
// with its place in the stream and the consumer, then the message as
// `strata get` shows it.
func writeConsumerMsg(w io.Writer, i int, m *client.ConsumerMsg) {
	fmt.Fprintf(w, "[%d] %s: stream seq %d, consumer seq %d, delivered %d, pending %d\n",
		i, m.Subject, m.Seq, m.ConsumerSeq, m.Delivered, m.Pending)
	writeMsg(w, m.Stream(), &m.Msg)
	fmt.Fprintln(w)
}
