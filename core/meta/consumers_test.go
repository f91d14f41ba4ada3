package meta

import (
	"errors"
	"slices"
	"testing"

	"github.com/stratadb/strata/core/consumer"
)

func testConsumer(s Stream, name string, replicas int) Consumer {
	c := consumer.Config{Durable: name}
	c.Finish(replicas)
	peers := FollowPeers(nil, s.Peers, replicas)
	return Consumer{Stream: s.Config.Name, Config: c, Peers: peers, Bootstrap: peers, Group: s.Group + "-" + name,
		StreamGroup: s.Group, Created: 7}
}

func applyConsumerCmd(t *testing.T, f *FSM, index uint64, data []byte, err error) error {
	t.Helper()
	return applyStream(t, f, index, data, err)
}

func TestConsumerCommands(t *testing.T) {
	f := NewFSM()
	orders := testStream("ORDERS", "ORDERS-1", "orders.>")
	if err := createStream(t, f, 1, orders); err != nil {
		t.Fatal(err)
	}
	c := testConsumer(orders, "NEW", 3)
	data, err := CreateConsumer(c)
	if err := applyConsumerCmd(t, f, 2, data, err); err != nil {
		t.Fatal(err)
	}
	if err := applyConsumerCmd(t, f, 3, data, nil); err != nil {
		t.Fatalf("the same config again: %v; want accepted", err)
	}
	// Two creates of one config in flight at once: the second, proposed
	// with a group and peers of its own, leaves the first's record (and so
	// its Raft group and state) as it was.
	racing := c
	racing.Group, racing.Created, racing.Peers = "ORDERS-1-NEW-other", 99, []string{"n3", "n2", "n1"}
	data2, err := CreateConsumer(racing)
	if err := applyConsumerCmd(t, f, 3, data2, err); err != nil {
		t.Fatalf("the same config again from another create: %v; want accepted", err)
	}
	if got, _ := f.Consumer("ORDERS", "NEW"); got.Group != c.Group || got.Created != c.Created || !slices.Equal(got.Peers, c.Peers) {
		t.Fatalf("the same config again replaced the record: %+v, want %+v", got, c)
	}
	other := c
	other.Config.AckWait *= 2
	data, err = CreateConsumer(other)
	if err := applyConsumerCmd(t, f, 4, data, err); !errors.Is(err, ErrConsumerExists) {
		t.Fatalf("another config under the same name: %v; want ErrConsumerExists", err)
	}
	got, ok := f.Consumer("ORDERS", "NEW")
	if !ok || got.Config.AckWait != c.Config.AckWait {
		t.Fatalf("consumer after refused create = %+v, %v; want unchanged", got.Config, ok)
	}
	data, err = UpdateConsumer(other)
	if err := applyConsumerCmd(t, f, 5, data, err); err != nil {
		t.Fatalf("update of ack wait: %v", err)
	}
	if got, _ := f.Consumer("ORDERS", "NEW"); got.Config.AckWait != other.Config.AckWait {
		t.Fatalf("ack wait after update = %s", got.Config.AckWait)
	}
	bad := other
	bad.Config.FilterSubjects = []string{"orders.eu"}
	data, err = UpdateConsumer(bad)
	if err := applyConsumerCmd(t, f, 6, data, err); !errors.Is(err, consumer.ErrBadConfig) {
		t.Fatalf("update of filters: %v; want ErrBadConfig", err)
	}
	missing := testConsumer(orders, "NOPE", 3)
	missing.Stream = "NOSTREAM"
	data, err = CreateConsumer(missing)
	if err := applyConsumerCmd(t, f, 7, data, err); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("consumer of a missing stream: %v", err)
	}
	data, err = DeleteConsumer("ORDERS", "NOPE")
	if err := applyConsumerCmd(t, f, 8, data, err); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("delete of a missing consumer: %v", err)
	}
	data, err = DeleteConsumer("ORDERS", "NEW")
	if err := applyConsumerCmd(t, f, 9, data, err); err != nil {
		t.Fatal(err)
	}
	if len(f.Consumers("ORDERS")) != 0 {
		t.Fatalf("consumers after delete: %v", f.Consumers("ORDERS"))
	}
}

// TestConsumersFollowStream: consumer peers follow their stream's peers,
// and a deleted stream takes its consumers with it.
func TestConsumersFollowStream(t *testing.T) {
	f := NewFSM()
	orders := testStream("ORDERS", "ORDERS-1", "orders.>")
	if err := createStream(t, f, 1, orders); err != nil {
		t.Fatal(err)
	}
	for i, c := range []Consumer{testConsumer(orders, "R3", 3), testConsumer(orders, "R1", 1)} {
		data, err := CreateConsumer(c)
		if err := applyConsumerCmd(t, f, uint64(2+i), data, err); err != nil {
			t.Fatal(err)
		}
	}
	moved := orders
	moved.Peers = []string{"n2", "n3", "n4"}
	if err := updateStream(t, f, 4, moved); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Consumer("ORDERS", "R3"); !slices.Equal(got.Peers, []string{"n2", "n3", "n4"}) {
		t.Fatalf("R3 peers after the stream moved off n1: %v", got.Peers)
	}
	if got, _ := f.Consumer("ORDERS", "R1"); !slices.Equal(got.Peers, []string{"n2"}) {
		t.Fatalf("R1 peers after the stream moved off n1: %v", got.Peers)
	}
	if err := deleteStream(t, f, 5, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	if len(f.AllConsumers()) != 0 {
		t.Fatalf("consumers after the stream's delete: %v", f.AllConsumers())
	}
}

func TestFollowPeers(t *testing.T) {
	cases := []struct {
		cur, stream []string
		n           int
		want        []string
	}{
		{nil, []string{"a", "b", "c"}, 3, []string{"a", "b", "c"}},
		{nil, []string{"a", "b", "c"}, 1, []string{"a"}},
		{[]string{"c"}, []string{"a", "b", "c"}, 1, []string{"c"}},
		{[]string{"a", "b", "c"}, []string{"b", "c", "d"}, 3, []string{"b", "c", "d"}},
		{[]string{"a"}, []string{"b", "c", "d"}, 1, []string{"b"}},
		{[]string{"a", "b", "c"}, []string{"a"}, 3, []string{"a"}},
	}
	for _, c := range cases {
		if got := FollowPeers(c.cur, c.stream, c.n); !slices.Equal(got, c.want) {
			t.Errorf("FollowPeers(%v, %v, %d) = %v, want %v", c.cur, c.stream, c.n, got, c.want)
		}
	}
}
