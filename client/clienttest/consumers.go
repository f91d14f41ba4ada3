package clienttest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stratadb/strata/client/pb"
)

// consumer is one consumer held in memory: a pull consumer whose state
// (delivered, pending deliveries, ack floor) follows the server's rules,
// with ack waits, naks, backoff and max deliver, from the stream's
// messages. Ephemeral consumers do not expire.
type consumer struct {
	cfg     *pb.ConsumerConfig // with the defaults filled in
	created int64
	peers   []string
	leader  int // index in peers

	next    uint64   // the next stream sequence to deliver
	start   []uint64 // sequences to deliver before next (last_per_subject)
	dseq    uint64   // the last consumer sequence
	dstream uint64   // the stream sequence last delivered
	pending map[uint64]*delivery
	counts  map[uint64]uint64 // deliveries so far, by stream sequence
	ignored uint64
	waiting int
}

// delivery is a message awaiting its ack.
type delivery struct {
	first uint64    // consumer sequence of its first delivery
	due   time.Time // when it goes again without an ack
}

// Fetch defaults and bounds, as the server has them.
const (
	defaultExpires       = 30 * time.Second
	defaultAckWait       = 30 * time.Second
	defaultMaxAckPending = 1000
	defaultMaxWaiting    = 512
	defaultInactive      = 5 * time.Minute
	fetchPoll            = 2 * time.Millisecond
)

// finishConsumer fills in a consumer config's defaults like the server.
func finishConsumer(in *pb.ConsumerConfig, streamReplicas int32) *pb.ConsumerConfig {
	cfg := proto.Clone(in).(*pb.ConsumerConfig)
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	if cfg.DeliverPolicy == "" {
		cfg.DeliverPolicy = "all"
	}
	if cfg.AckPolicy == "" {
		cfg.AckPolicy = "explicit"
	}
	if cfg.AckWaitNs == 0 {
		cfg.AckWaitNs = int64(defaultAckWait)
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = defaultMaxAckPending
	}
	if cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = defaultMaxWaiting
	}
	if cfg.MaxDeliver == -1 {
		cfg.MaxDeliver = 0
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = streamReplicas
	}
	if cfg.Durable == "" && cfg.InactiveThresholdNs == 0 {
		cfg.InactiveThresholdNs = int64(defaultInactive)
	}
	return cfg
}

// checkConsumer validates a finished config like the server does.
func checkConsumer(cfg *pb.ConsumerConfig, st *stream) error {
	bad := func(format string, args ...any) error {
		return status.Errorf(codes.InvalidArgument, "invalid consumer config: "+format, args...)
	}
	switch {
	case cfg.Name == "":
		return bad("a durable consumer needs a name")
	case strings.ContainsAny(cfg.Name, " \t\r\n.*>/\\"):
		return bad("consumer name %q may not contain whitespace, '.', '*', '>', '/' or '\\'", cfg.Name)
	case cfg.Durable != "" && cfg.Durable != cfg.Name:
		return bad("durable name %q and name %q differ", cfg.Durable, cfg.Name)
	}
	switch cfg.DeliverPolicy {
	case "all", "last", "new", "last_per_subject":
		if cfg.OptStartSeq != 0 || cfg.OptStartTime != 0 {
			return bad("deliver policy %s takes no start sequence or time", cfg.DeliverPolicy)
		}
	case "by_start_sequence":
		if cfg.OptStartSeq == 0 || cfg.OptStartTime != 0 {
			return bad("deliver policy by_start_sequence needs a start sequence (and no start time)")
		}
	case "by_start_time":
		if cfg.OptStartTime == 0 || cfg.OptStartSeq != 0 {
			return bad("deliver policy by_start_time needs a start time (and no start sequence)")
		}
	default:
		return bad("deliver policy %q: want all, last, new, by_start_sequence, by_start_time or last_per_subject", cfg.DeliverPolicy)
	}
	switch cfg.AckPolicy {
	case "explicit", "all":
	case "none":
		if cfg.MaxDeliver != 0 || len(cfg.BackoffNs) > 0 {
			return bad("max_deliver and backoff need acks: ack policy none delivers each message once")
		}
	default:
		return bad("ack policy %q: want explicit, all or none", cfg.AckPolicy)
	}
	switch {
	case cfg.AckWaitNs <= 0:
		return bad("ack_wait %s: want more than 0", time.Duration(cfg.AckWaitNs))
	case cfg.MaxDeliver < 0:
		return bad("max_deliver %d: want 0 (unlimited) or more", cfg.MaxDeliver)
	case cfg.MaxAckPending < 0:
		return bad("max_ack_pending %d: want 1 or more", cfg.MaxAckPending)
	case cfg.MaxDeliver > 0 && len(cfg.BackoffNs) > int(cfg.MaxDeliver):
		return bad("backoff has %d delays, more than max_deliver %d", len(cfg.BackoffNs), cfg.MaxDeliver)
	case cfg.Replicas < 1 || cfg.Replicas > st.cfg.Replicas:
		return bad("replicas %d: want 1 to the stream's %d", cfg.Replicas, st.cfg.Replicas)
	case cfg.MaxWaiting < 1:
		return bad("max_waiting %d: want 1 or more", cfg.MaxWaiting)
	}
	for _, d := range cfg.BackoffNs {
		if d <= 0 {
			return bad("backoff delay %s: want more than 0", time.Duration(d))
		}
	}
	for i, f := range cfg.FilterSubjects {
		if !slices.ContainsFunc(st.cfg.Subjects, func(s string) bool { return within(f, s) }) {
			return bad("filter subject %q is not within the stream's subjects %s", f, strings.Join(st.cfg.Subjects, ", "))
		}
		if slices.Contains(cfg.FilterSubjects[:i], f) {
			return bad("filter subjects %q and %q overlap", f, f)
		}
	}
	return nil
}

// within reports whether every subject filter f matches is matched by s.
func within(f, s string) bool {
	ft, st := strings.Split(f, "."), strings.Split(s, ".")
	for i, t := range st {
		if t == ">" {
			return len(ft) > i
		}
		if i >= len(ft) || ft[i] == ">" || t != "*" && t != ft[i] {
			return false
		}
	}
	return len(ft) == len(st)
}

// consumer returns a stream's consumer or a NotFound status; s.mu is held.
func (s *Server) consumer(streamName, name string) (*stream, *consumer, error) {
	st, err := s.stream(streamName)
	if err != nil {
		return nil, nil, err
	}
	c, ok := st.consumers[name]
	if !ok {
		return nil, nil, status.Errorf(codes.NotFound, "consumer not found: %s on stream %s", name, streamName)
	}
	return st, c, nil
}

// ConsumerCreate implements pb.StrataServer.
func (s *Server) ConsumerCreate(_ context.Context, req *pb.ConsumerCreateRequest) (*pb.Consumer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.stream(req.GetStream())
	if err != nil {
		return nil, err
	}
	cfg := finishConsumer(req.GetConfig(), st.cfg.Replicas)
	if cfg.Durable == "" && cfg.Name == "" {
		s.ephemerals++
		cfg.Name = fmt.Sprintf("eph-%d", s.ephemerals)
	}
	if err := checkConsumer(cfg, st); err != nil {
		return nil, err
	}
	if cur, ok := st.consumers[cfg.Name]; ok {
		if !proto.Equal(cur.cfg, cfg) {
			return nil, status.Errorf(codes.AlreadyExists, "consumer already exists with a different config: %s on stream %s", cfg.Name, req.GetStream())
		}
		return s.consumerInfo(req.GetStream(), cfg.Name), nil
	}
	c := &consumer{
		cfg: cfg, created: time.Now().UnixNano(), peers: slices.Clone(st.peers[:cfg.Replicas]),
		pending: make(map[uint64]*delivery), counts: make(map[uint64]uint64),
	}
	c.setStart(st)
	st.consumers[cfg.Name] = c
	st.corder = append(st.corder, cfg.Name)
	return s.consumerInfo(req.GetStream(), cfg.Name), nil
}

// setStart places a new consumer where its deliver policy says.
func (c *consumer) setStart(st *stream) {
	c.next = 1
	switch c.cfg.DeliverPolicy {
	case "new":
		c.next = st.lastSeq + 1
	case "last":
		c.next = st.lastSeq + 1
		for i := len(st.msgs) - 1; i >= 0; i-- {
			if c.matches(st.msgs[i].Subject) {
				c.next = st.msgs[i].Seq
				break
			}
		}
	case "by_start_sequence":
		c.next = c.cfg.OptStartSeq
	case "by_start_time":
		c.next = st.lastSeq + 1
		for _, m := range st.msgs {
			if m.Time >= c.cfg.OptStartTime {
				c.next = m.Seq
				break
			}
		}
	case "last_per_subject":
		last := map[string]uint64{}
		for _, m := range st.msgs {
			if c.matches(m.Subject) {
				last[m.Subject] = m.Seq
			}
		}
		for _, seq := range last {
			c.start = append(c.start, seq)
		}
		slices.Sort(c.start)
		c.next = st.lastSeq + 1
	}
}

func (c *consumer) matches(subject string) bool {
	if len(c.cfg.FilterSubjects) == 0 {
		return true
	}
	return slices.ContainsFunc(c.cfg.FilterSubjects, func(f string) bool { return subjectMatches(f, subject) })
}

// ConsumerUpdate implements pb.StrataServer: only the description, ack
// wait, max deliver, backoff, max ack pending and max waiting change.
func (s *Server) ConsumerUpdate(_ context.Context, req *pb.ConsumerCreateRequest) (*pb.Consumer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := req.GetConfig().GetName()
	if name == "" {
		name = req.GetConfig().GetDurable()
	}
	st, c, err := s.consumer(req.GetStream(), name)
	if err != nil {
		return nil, err
	}
	next := finishConsumer(req.GetConfig(), st.cfg.Replicas)
	fixed := proto.Clone(next).(*pb.ConsumerConfig)
	fixed.Description, fixed.AckWaitNs, fixed.MaxDeliver = c.cfg.Description, c.cfg.AckWaitNs, c.cfg.MaxDeliver
	fixed.BackoffNs, fixed.MaxAckPending, fixed.MaxWaiting = c.cfg.BackoffNs, c.cfg.MaxAckPending, c.cfg.MaxWaiting
	if !proto.Equal(fixed, c.cfg) {
		return nil, status.Errorf(codes.InvalidArgument,
			"invalid consumer config: only the description, ack wait, max deliver, backoff, max ack pending and max waiting change on an existing consumer")
	}
	if err := checkConsumer(next, st); err != nil {
		return nil, err
	}
	c.cfg = next
	return s.consumerInfo(req.GetStream(), name), nil
}

// ConsumerInfo implements pb.StrataServer.
func (s *Server) ConsumerInfo(_ context.Context, req *pb.ConsumerRequest) (*pb.Consumer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, err := s.consumer(req.GetStream(), req.GetName()); err != nil {
		return nil, err
	}
	return s.consumerInfo(req.GetStream(), req.GetName()), nil
}

// ConsumerList implements pb.StrataServer.
func (s *Server) ConsumerList(_ context.Context, req *pb.StreamRequest) (*pb.ConsumerListResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.stream(req.GetName())
	if err != nil {
		return nil, err
	}
	resp := &pb.ConsumerListResponse{}
	for _, name := range st.corder {
		resp.Consumers = append(resp.Consumers, s.consumerInfo(req.GetName(), name))
	}
	return resp, nil
}

// ConsumerDelete implements pb.StrataServer.
func (s *Server) ConsumerDelete(_ context.Context, req *pb.ConsumerRequest) (*pb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.consumer(req.GetStream(), req.GetName())
	if err != nil {
		return nil, err
	}
	delete(st.consumers, req.GetName())
	st.corder = slices.DeleteFunc(st.corder, func(n string) bool { return n == req.GetName() })
	return &pb.Empty{}, nil
}

// ConsumerStepDown implements pb.StrataServer: the next peer leads.
func (s *Server) ConsumerStepDown(_ context.Context, req *pb.ConsumerRequest) (*pb.StepDownResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, c, err := s.consumer(req.GetStream(), req.GetName())
	if err != nil {
		return nil, err
	}
	if len(c.peers) < 2 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid request: consumer %s has one replica: no other can lead", req.GetName())
	}
	old := c.peers[c.leader]
	c.leader = (c.leader + 1) % len(c.peers)
	return &pb.StepDownResponse{OldLeader: old, NewLeader: c.peers[c.leader]}, nil
}

// consumerInfo describes a consumer; s.mu is held.
func (s *Server) consumerInfo(streamName, name string) *pb.Consumer {
	st := s.streams[streamName]
	c := st.consumers[name]
	ci := &pb.ClusterInfo{Name: s.cluster, Leader: c.peers[c.leader], RaftTerm: 1, RaftIndex: c.dseq + 1}
	for i, p := range c.peers {
		if i != c.leader {
			ci.Replicas = append(ci.Replicas, &pb.PeerInfo{Name: p, Current: true, ActiveNs: int64(70 * time.Millisecond)})
		}
	}
	return &pb.Consumer{
		Stream: streamName, Config: proto.Clone(c.cfg).(*pb.ConsumerConfig), State: c.state(st),
		Cluster: ci, Created: c.created, Peers: slices.Clone(c.peers),
	}
}

// state is the consumer's state; s.mu is held.
func (c *consumer) state(st *stream) *pb.ConsumerState {
	out := &pb.ConsumerState{
		Delivered:   &pb.SequencePair{ConsumerSeq: c.dseq, StreamSeq: c.dstream},
		AckFloor:    &pb.SequencePair{ConsumerSeq: c.dseq, StreamSeq: c.dstream},
		AckPending:  uint64(len(c.pending)),
		Unprocessed: c.unprocessed(st, 0),
		Waiting:     uint64(c.waiting),
		AcksIgnored: c.ignored,
	}
	if len(c.pending) > 0 {
		first, seq := uint64(1<<63), uint64(1<<63)
		for s, d := range c.pending {
			first, seq = min(first, d.first), min(seq, s)
			if c.counts[s] > 1 {
				out.Redelivered++
			}
		}
		out.AckFloor = &pb.SequencePair{ConsumerSeq: first - 1, StreamSeq: seq - 1}
	}
	return out
}

// unprocessed counts the matching messages not delivered yet after
// sequence after; s.mu is held.
func (c *consumer) unprocessed(st *stream, after uint64) uint64 {
	var n uint64
	for _, seq := range c.start {
		if seq > after {
			n++
		}
	}
	for _, m := range st.msgs {
		if m.Seq >= c.next && m.Seq > after && c.matches(m.Subject) {
			n++
		}
	}
	return n
}

// ackWait is how long delivery number n waits for its ack.
func (c *consumer) ackWait(n uint64) time.Duration {
	if b := c.cfg.BackoffNs; len(b) > 0 {
		return time.Duration(b[min(int(n), len(b))-1])
	}
	return time.Duration(c.cfg.AckWaitNs)
}

// deliver hands out up to want messages (and maxBytes, when set): the
// deliveries due again first, then new ones. full is set when maxBytes
// stopped it. s.mu is held.
func (s *Server) deliver(st *stream, c *consumer, want int, maxBytes int64) (out []*pb.ConsumerMsg, full bool) {
	now := time.Now()
	var bytes int64
	add := func(m *pb.Msg) bool {
		size := int64(msgSize(m))
		if maxBytes > 0 && len(out) > 0 && bytes+size > maxBytes {
			full = true
			return false
		}
		bytes += size
		c.dseq++
		c.counts[m.Seq]++
		n := c.counts[m.Seq]
		if c.cfg.AckPolicy != "none" {
			d := c.pending[m.Seq]
			if d == nil {
				d = &delivery{first: c.dseq}
				c.pending[m.Seq] = d
			}
			d.due = now.Add(c.ackWait(n))
		}
		if m.Seq > c.dstream {
			c.dstream = m.Seq
		}
		msg := m
		if c.cfg.HeadersOnly {
			msg = proto.Clone(m).(*pb.Msg)
			msg.Data = nil
		}
		out = append(out, &pb.ConsumerMsg{Msg: msg, ConsumerSeq: c.dseq, Delivered: n, Pending: c.unprocessed(st, m.Seq)})
		return true
	}
	var due []uint64
	for seq, d := range c.pending {
		if !d.due.After(now) {
			due = append(due, seq)
		}
	}
	slices.Sort(due)
	for _, seq := range due {
		if len(out) >= want {
			return out, full
		}
		m := st.msg(seq)
		if m == nil || c.cfg.MaxDeliver > 0 && c.counts[seq] >= uint64(c.cfg.MaxDeliver) {
			delete(c.pending, seq) // gone, or delivered often enough
			continue
		}
		if !add(m) {
			return out, full
		}
	}
	for len(out) < want && len(c.start) > 0 {
		if c.cfg.AckPolicy != "none" && len(c.pending) >= int(c.cfg.MaxAckPending) {
			return out, full
		}
		if m := st.msg(c.start[0]); m != nil && !add(m) {
			return out, full
		}
		c.start = c.start[1:]
	}
	for _, m := range st.msgs {
		if len(out) >= want || c.cfg.AckPolicy != "none" && len(c.pending) >= int(c.cfg.MaxAckPending) {
			break
		}
		if m.Seq < c.next {
			continue
		}
		if c.matches(m.Subject) && !add(m) {
			break
		}
		c.next = m.Seq + 1
	}
	return out, full
}

// msg returns the stored message with sequence seq, or nil; s.mu is held.
func (st *stream) msg(seq uint64) *pb.Msg {
	i, ok := slices.BinarySearchFunc(st.msgs, seq, func(m *pb.Msg, seq uint64) int {
		return cmpUint(m.Seq, seq)
	})
	if !ok {
		return nil
	}
	return st.msgs[i]
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// remove drops the stored message with sequence seq (a work queue's
// acked message); s.mu is held.
func (st *stream) remove(seq uint64) {
	before := len(st.msgs)
	st.msgs = slices.DeleteFunc(st.msgs, func(m *pb.Msg) bool { return m.Seq == seq })
	st.deleted += uint64(before - len(st.msgs))
}

// ConsumerFetch implements pb.StrataServer: it sends messages as they
// can be delivered, heartbeats while it waits, and a last batch with done
// set once the batch is full, the request expired or, with no_wait, at
// once. StallFetches makes requests send nothing at all.
func (s *Server) ConsumerFetch(req *pb.FetchRequest, fs pb.Strata_ConsumerFetchServer) error {
	ctx := fs.Context()
	s.mu.Lock()
	s.fetches = append(s.fetches, proto.Clone(req).(*pb.FetchRequest))
	_, c, err := s.consumer(req.GetStream(), req.GetConsumer())
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if c.waiting >= int(c.cfg.MaxWaiting) {
		s.mu.Unlock()
		return status.Errorf(codes.ResourceExhausted, "consumer %s: max waiting pull requests (%d) reached", req.GetConsumer(), c.cfg.MaxWaiting)
	}
	stall := s.stalls > 0
	if stall {
		s.stalls--
	}
	c.waiting++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		c.waiting--
		s.mu.Unlock()
	}()
	if stall {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.serveFetch(ctx, req, fs)
}

func (s *Server) serveFetch(ctx context.Context, req *pb.FetchRequest, fs pb.Strata_ConsumerFetchServer) error {
	batch := int(max(req.GetBatch(), 1))
	expires := time.Duration(req.GetExpiresNs())
	if expires <= 0 {
		expires = defaultExpires
	}
	deadline := time.Now().Add(expires)
	hb := time.Duration(req.GetHeartbeatNs())
	lastSent := time.Now()
	tick := time.NewTicker(fetchPoll)
	defer tick.Stop()
	sent := 0
	for {
		s.mu.Lock()
		st, c, err := s.consumer(req.GetStream(), req.GetConsumer())
		if err != nil {
			s.mu.Unlock()
			return err
		}
		msgs, full := s.deliver(st, c, batch-sent, req.GetMaxBytes())
		s.mu.Unlock()
		if len(msgs) > 0 {
			if err := fs.Send(&pb.FetchBatch{Msgs: msgs}); err != nil {
				return err
			}
			sent += len(msgs)
			lastSent = time.Now()
		}
		switch {
		case sent >= batch || full:
			return fs.Send(&pb.FetchBatch{Done: true, Reason: "batch complete"})
		case req.GetNoWait():
			return fs.Send(&pb.FetchBatch{Done: true, Reason: "no messages"})
		case !time.Now().Before(deadline):
			return fs.Send(&pb.FetchBatch{Done: true, Reason: "request expired"})
		case hb > 0 && time.Since(lastSent) >= hb:
			if err := fs.Send(&pb.FetchBatch{Heartbeat: true}); err != nil {
				return err
			}
			lastSent = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// ConsumerAck implements pb.StrataServer.
func (s *Server) ConsumerAck(_ context.Context, req *pb.AckRequest) (*pb.AckResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, c, err := s.consumer(req.GetStream(), req.GetConsumer())
	if err != nil {
		return nil, err
	}
	for _, a := range req.GetAcks() {
		switch a.GetKind() {
		case "", "ack", "nak", "progress", "term":
		default:
			return nil, status.Errorf(codes.InvalidArgument, "invalid request: ack kind %q: want ack, nak, progress or term", a.GetKind())
		}
	}
	resp := &pb.AckResponse{}
	for _, a := range req.GetAcks() {
		s.acks = append(s.acks, proto.Clone(a).(*pb.Ack))
		seq := a.GetStreamSeq()
		d, ok := c.pending[seq]
		if !ok {
			resp.Ignored++
			c.ignored++
			continue
		}
		resp.Applied++
		now := time.Now()
		switch a.GetKind() {
		case "nak":
			d.due = now.Add(time.Duration(a.GetDelayNs()))
		case "progress":
			d.due = now.Add(c.ackWait(c.counts[seq]))
		default: // ack, term
			done := []uint64{seq}
			if c.cfg.AckPolicy == "all" && a.GetKind() != "term" {
				done = done[:0]
				for p := range c.pending {
					if p <= seq {
						done = append(done, p)
					}
				}
			}
			for _, p := range done {
				delete(c.pending, p)
				if st.cfg.Retention == "workqueue" {
					st.remove(p)
				}
			}
		}
	}
	return resp, nil
}

// StallFetches makes the next n ConsumerFetch requests send nothing, not
// even heartbeats, until the client gives them up.
func (s *Server) StallFetches(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalls += n
}

// Fetches returns the ConsumerFetch requests received so far.
func (s *Server) Fetches() []*pb.FetchRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.fetches)
}

// Acks returns every ack ConsumerAck received, in order.
func (s *Server) Acks() []*pb.Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acks)
}
