package backup

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup/record"
)

// fuzzManifest is what the fuzzed records are checked against: three
// messages 1..3 and one consumer.
var fuzzManifest = Manifest{FormatVersion: FormatVersion, Stream: "S", FirstSeq: 1, LastSeq: 3, Messages: 3, Consumers: 1}

// fuzzRecords returns a valid backup body (uncompressed) for fuzzManifest.
func fuzzRecords(t testing.TB) []byte {
	var buf bytes.Buffer
	rw, err := newRecordWriter(&buf)
	if err == nil {
		err = rw.config(client.StreamConfig{Name: "S", Subjects: []string{"S.>"}})
	}
	for seq := uint64(1); seq <= 3 && err == nil; seq++ {
		err = rw.message(client.Msg{Seq: seq, Subject: "S.x", Data: []byte("m"), Time: time.Unix(0, int64(seq)),
			Header: []client.Header{{Key: "k", Value: "v"}}})
	}
	if err == nil {
		err = rw.consumer(Consumer{Config: client.ConsumerConfig{Durable: "C"}, State: []byte(`{"started":false}`)})
	}
	if err == nil {
		err = rw.end(3, 3)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readFuzzed reads body as a backup's records the way restore and
// verify do, short of the zstd frame and checksum around them.
func readFuzzed(body []byte) (msgs []client.Msg, err error) {
	rr, err := newRecordReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r := &reader{m: fuzzManifest, rr: rr, next: fuzzManifest.FirstSeq}
	typ, _, err := rr.next()
	if err != nil {
		return nil, err
	}
	if typ != recConfig {
		return nil, ErrCorrupt
	}
	err = r.records(func(m client.Msg) error {
		msgs = append(msgs, m)
		return nil
	})
	return msgs, err
}

// FuzzBackupRecords feeds arbitrary bytes to the backup record reader:
// it never panics, every error is ErrCorrupt or ErrVersion, and what it
// accepts is exactly the manifest's messages, in order.
func FuzzBackupRecords(f *testing.F) {
	body := fuzzRecords(f)
	f.Add(body)
	f.Add(body[:len(body)-3])
	f.Add(append(bytes.Clone(body[:len(magic)+1]), record.Message, 0xff, 0xff, 0xff, 0x7f))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := readFuzzed(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		if uint64(len(msgs)) != fuzzManifest.Messages {
			t.Fatalf("accepted %d messages, the manifest says %d", len(msgs), fuzzManifest.Messages)
		}
		for i, m := range msgs {
			if m.Seq != uint64(i+1) {
				t.Fatalf("message %d has seq %d", i, m.Seq)
			}
		}
	})
}

// TestRecordLengthBeyondTheData checks that a record whose length field
// claims far more than the data holds is refused without allocating
// that length: a corrupt backup cannot make a restore run out of memory.
func TestRecordLengthBeyondTheData(t *testing.T) {
	body := []byte(magic + string(rune(FormatVersion)))
	body = append(body, recMessage)
	body = binary.AppendUvarint(body, record.Max)
	body = append(body, make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readFuzzed(body)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
		t.Fatalf("reading a %d-byte body allocated %d MiB", len(body), grew>>20)
	}
}
