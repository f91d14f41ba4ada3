package backup

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/consumer"
)

// testConsumer is durable consumer name with state st.
func testConsumer(t *testing.T, name string, st consumer.State) Consumer {
	t.Helper()
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return Consumer{Config: client.ConsumerConfig{Durable: name, AckPolicy: client.AckExplicitPolicy}, State: data}
}

// ackedThrough is a started state: 1..floor acked, floor+1..delivered
// pending.
func ackedThrough(floor, delivered uint64) consumer.State {
	st := consumer.State{Started: true, Delivered: consumer.SeqPair{Consumer: delivered, Stream: delivered},
		AckFloor: consumer.SeqPair{Consumer: floor, Stream: floor}, Pending: map[uint64]consumer.Pending{}}
	for seq := floor + 1; seq <= delivered; seq++ {
		st.Pending[seq] = consumer.Pending{Consumer: seq, Count: 1}
	}
	return st
}

func TestVerifyReadsConsumers(t *testing.T) {
	store, b := writeTestBackup(t, 1, 100, testConsumer(t, "A", ackedThrough(40, 50)), testConsumer(t, "B", consumer.State{}))
	st, err := Verify(context.Background(), store, b, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Consumers) != 2 || st.Consumers[0].Name() != "A" || !st.Consumers[0].started || st.Consumers[1].started {
		t.Fatalf("consumers = %+v", st.Consumers)
	}
}

// TestVerifyRefusesConsumers: a consumer count the manifest does not
// hold and a state ahead of the stream are ErrCorrupt.
func TestVerifyRefusesConsumers(t *testing.T) {
	store, b := writeTestBackup(t, 1, 100, testConsumer(t, "A", ackedThrough(40, 50)))
	b.Manifest.Consumers = 0
	if _, err := Verify(context.Background(), store, b, VerifyOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify with a wrong consumer count = %v, want ErrCorrupt", err)
	}
	store, b = writeTestBackup(t, 1, 100, testConsumer(t, "A", ackedThrough(40, 150)))
	if _, err := Verify(context.Background(), store, b, VerifyOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify of a consumer ahead of the stream = %v, want ErrCorrupt", err)
	}
	store, b = writeTestBackup(t, 1, 100, Consumer{State: json.RawMessage(`{}`)})
	if _, err := Verify(context.Background(), store, b, VerifyOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify of a consumer without a name = %v, want ErrCorrupt", err)
	}
}

// TestConsumerClamped: deliveries past the backup's last sequence are
// forgotten, the acks before it kept.
func TestConsumerClamped(t *testing.T) {
	c, err := testConsumer(t, "A", ackedThrough(40, 150)).clamped(100)
	if err != nil {
		t.Fatal(err)
	}
	var st consumer.State
	if err := json.Unmarshal(c.State, &st); err != nil {
		t.Fatal(err)
	}
	if st.Delivered.Stream != 100 || st.AckFloor.Stream != 40 || len(st.Pending) != 60 {
		t.Fatalf("clamped state: delivered %+v, floor %+v, %d pending", st.Delivered, st.AckFloor, len(st.Pending))
	}
	if err := st.CheckRestore(100); err != nil {
		t.Fatalf("clamped state does not restore: %v", err)
	}
}
