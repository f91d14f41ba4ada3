package meta

import (
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

func apply(t *testing.T, f *FSM, index uint64, data []byte) any {
	t.Helper()
	return f.Apply(&raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: data})
}

func putServer(t *testing.T, f *FSM, index uint64, s Server) {
	t.Helper()
	data, err := PutServer(s)
	if err != nil {
		t.Fatal(err)
	}
	if res := apply(t, f, index, data); res != nil {
		t.Fatalf("apply put_server: %v", res)
	}
}

func TestPutServer(t *testing.T) {
	f := NewFSM()
	n2 := Server{Name: "n2", Cluster: "127.0.0.1:6223", Client: "127.0.0.1:4223", HTTP: "127.0.0.1:8223"}
	putServer(t, f, 1, n2)
	putServer(t, f, 2, Server{Name: "n1", Cluster: "127.0.0.1:6222", Tags: []string{"az:a"}})
	n2.Tags = []string{"az:b"}
	putServer(t, f, 3, n2)
	got := f.Servers()
	if len(got) != 2 || got[0].Name != "n1" || !got[1].Equal(n2) {
		t.Fatalf("servers = %+v", got)
	}
	got[0].Tags[0] = "changed"
	if s, _ := f.Server("n1"); s.Tags[0] != "az:a" {
		t.Fatal("Servers returned the FSM's own tags slice")
	}
}

func TestBadCommands(t *testing.T) {
	f := NewFSM()
	cases := map[string]struct {
		data []byte
		want error
	}{
		"not json":   {[]byte("{"), ErrBadCommand},
		"unknown op": {[]byte(`{"op":"drop_everything"}`), ErrUnknownOp},
		"no server":  {[]byte(`{"op":"put_server"}`), ErrBadCommand},
	}
	for name, tc := range cases {
		res := apply(t, f, 1, tc.data)
		if err, ok := res.(error); !ok || !errors.Is(err, tc.want) {
			t.Errorf("%s: result %v; want %v", name, res, tc.want)
		}
	}
	if len(f.Servers()) != 0 {
		t.Fatal("a bad command changed the state")
	}
	if _, err := PutServer(Server{Name: "n1"}); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("PutServer without address: %v", err)
	}
}

func TestSnapshotRestore(t *testing.T) {
	f := NewFSM()
	putServer(t, f, 1, Server{Name: "n1", Cluster: "127.0.0.1:6222", Tags: []string{"az:a"}})
	putServer(t, f, 2, Server{Name: "n2", Cluster: "127.0.0.1:6223"})

	store := raft.NewInmemSnapshotStore()
	sink, err := store.Create(raft.SnapshotVersionMax, 2, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Changes after Snapshot must not leak into it.
	putServer(t, f, 3, Server{Name: "n3", Cluster: "127.0.0.1:6224"})
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()

	_, rc, err := store.Open(sink.ID())
	if err != nil {
		t.Fatal(err)
	}
	restored := NewFSM()
	putServer(t, restored, 1, Server{Name: "stale", Cluster: "127.0.0.1:1"})
	if err := restored.Restore(rc); err != nil {
		t.Fatal(err)
	}
	want := f.Servers()[:2]
	if got := restored.Servers(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored %+v; want %+v", got, want)
	}
}

func TestRestoreCorrupt(t *testing.T) {
	f := NewFSM()
	putServer(t, f, 1, Server{Name: "n1", Cluster: "127.0.0.1:6222"})
	rc := io.NopCloser(&errReader{})
	if err := f.Restore(rc); err == nil {
		t.Fatal("restore of a broken snapshot succeeded")
	}
	if len(f.Servers()) != 1 {
		t.Fatal("a failed restore changed the state")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
