package s3snap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/zstd"

	"github.com/stratadb/strata/internal/s3test"
	"github.com/stratadb/strata/internal/testlog"
	"github.com/stratadb/strata/pluginsdk"

	"github.com/hashicorp/go-hclog"
)

// env is a versitygw with the AWS variables pointing at it, shared by the
// tests of one top-level test; each plugin gets a bucket of its own.
type env struct {
	srv     *s3test.Server
	buckets atomic.Int64
}

func newEnv(t *testing.T) *env {
	srv := s3test.Start(t)
	srv.Setenv(t)
	return &env{srv: srv}
}

// plugin configures a plugin on a new bucket, with extra config keys.
func (e *env) plugin(t *testing.T, extra map[string]any) (*Plugin, string) {
	t.Helper()
	bucket := fmt.Sprintf("snaps-%d", e.buckets.Add(1))
	e.srv.Bucket(t, bucket)
	return e.pluginOn(t, bucket, extra), bucket
}

func (e *env) pluginOn(t *testing.T, bucket string, extra map[string]any) *Plugin {
	t.Helper()
	cfg := map[string]any{"url": "s3://" + bucket + "/node", "part_size_mb": 5}
	for k, v := range extra {
		cfg[k] = v
	}
	p, err := configure(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func configure(t *testing.T, cfg map[string]any) (*Plugin, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := New()
	err = p.Configure(pluginsdk.ConfigureRequest{DataDir: t.TempDir(), Config: raw,
		Logger: testlog.Logger(t, "s3snap", hclog.Info)})
	t.Cleanup(func() { p.Close() })
	return p, err
}

func store(t *testing.T, p *Plugin, group string) *SnapshotStore {
	t.Helper()
	s, err := p.SnapshotStore(group)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*SnapshotStore)
}

var testConfiguration = raft.Configuration{Servers: []raft.Server{
	{Suffrage: raft.Voter, ID: "n1", Address: "127.0.0.1:7001"},
	{Suffrage: raft.Nonvoter, ID: "n2", Address: "127.0.0.1:7002"},
}}

func writeSnapshot(t *testing.T, s raft.SnapshotStore, term, index uint64, data []byte) string {
	t.Helper()
	sink, err := s.Create(1, index, term, testConfiguration, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.ID()
}

func listIDs(t *testing.T, s raft.SnapshotStore) []string {
	t.Helper()
	metas, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(metas))
	for i, m := range metas {
		ids[i] = m.ID
	}
	return ids
}

func readSnapshot(s raft.SnapshotStore, id string) ([]byte, error) {
	_, rc, err := s.Open(id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// objects lists the keys in a bucket.
func (e *env) objects(t *testing.T, bucket string) map[string]int64 {
	t.Helper()
	out, err := e.srv.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	objs := make(map[string]int64)
	for _, o := range out.Contents {
		objs[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
	}
	return objs
}

func (e *env) uploads(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := e.srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

func (e *env) get(t *testing.T, bucket, key string) []byte {
	t.Helper()
	out, err := e.srv.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) put(t *testing.T, bucket, key string, data []byte) {
	t.Helper()
	_, err := e.srv.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSnapshots(t *testing.T) {
	e := newEnv(t)
	t.Run("CompressedAndKeyed", func(t *testing.T) { testCompressedAndKeyed(t, e) })
	t.Run("Retain", func(t *testing.T) { testRetain(t, e) })
	t.Run("CorruptState", func(t *testing.T) { testCorruptState(t, e) })
	t.Run("ReplacedState", func(t *testing.T) { testReplacedState(t, e) })
	t.Run("UnusableMeta", func(t *testing.T) { testUnusableMeta(t, e) })
	t.Run("OrphanState", func(t *testing.T) { testOrphanState(t, e) })
	t.Run("CancelMultipart", func(t *testing.T) { testCancelMultipart(t, e) })
	t.Run("NewProcessSeesSnapshots", func(t *testing.T) { testNewProcess(t, e) })
	t.Run("DropGroup", func(t *testing.T) { testDropGroup(t, e) })
	t.Run("BadIDs", func(t *testing.T) { testBadIDs(t, e) })
}

// testCompressedAndKeyed: the state is stored zstd-compressed under the
// node's prefix and the escaped group, and reads back exactly.
func testCompressedAndKeyed(t *testing.T, e *env) {
	p, bucket := e.plugin(t, nil)
	s := store(t, p, "stream/ORDERS")
	data := bytes.Repeat([]byte(`{"subject":"ORDERS.new","payload":"hello"}`), 50_000) // ~2 MiB
	id := writeSnapshot(t, s, 3, 100, data)

	objs := e.objects(t, bucket)
	prefix := "node/stream%2f%4f%52%44%45%52%53/" + id + "/"
	stored, ok := objs[prefix+stateObject]
	if !ok || objs[prefix+metaObject] == 0 || len(objs) != 2 {
		t.Fatalf("objects = %v, want %s{%s,%s}", objs, prefix, stateObject, metaObject)
	}
	if stored*10 > int64(len(data)) {
		t.Fatalf("state stored in %d bytes for %d: not compressed", stored, len(data))
	}
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	plain, err := dec.DecodeAll(e.get(t, bucket, prefix+stateObject), nil)
	if err != nil || !bytes.Equal(plain, data) {
		t.Fatalf("state.zst is not the zstd of the data: %v", err)
	}
	got, err := readSnapshot(s, id)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	metas, err := s.List()
	if err != nil || len(metas) != 1 || metas[0].Size != int64(len(data)) || metas[0].Index != 100 || metas[0].Term != 3 {
		t.Fatalf("List = %+v, %v", metas, err)
	}
}

// testRetain: only the newest `retain` snapshots stay, newest first, and
// the older ones' objects are gone.
func testRetain(t *testing.T, e *env) {
	p, bucket := e.plugin(t, map[string]any{"retain": 3})
	s := store(t, p, "meta")
	var ids []string
	for i := range 5 {
		ids = append(ids, writeSnapshot(t, s, 2, uint64(10*(i+1)), []byte(fmt.Sprintf("state %d", i))))
	}
	want := []string{ids[4], ids[3], ids[2]}
	if got := listIDs(t, s); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if n := len(e.objects(t, bucket)); n != 6 {
		t.Fatalf("%d objects in the bucket, want 6 (3 snapshots)", n)
	}
	for _, id := range ids[:2] {
		if _, err := readSnapshot(s, id); err == nil {
			t.Fatalf("removed snapshot %s still opens", id)
		}
	}
}

// testCorruptState: a flipped byte in state.zst is caught (zstd's own
// checksum) and reported as ErrSnapshotCorrupt at the end of the read.
func testCorruptState(t *testing.T, e *env) {
	p, bucket := e.plugin(t, nil)
	s := store(t, p, "g")
	data := bytes.Repeat([]byte("abcdefgh"), 10_000)
	id := writeSnapshot(t, s, 1, 5, data)
	key := "node/g/" + id + "/" + stateObject
	b := e.get(t, bucket, key)
	b[len(b)/2] ^= 0xff
	e.put(t, bucket, key, b)
	if _, err := readSnapshot(s, id); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatalf("reading a corrupt state: %v, want ErrSnapshotCorrupt", err)
	}
}

// testReplacedState: a state that decodes fine but is not the one written
// (same compressed size) fails the SHA-256 check.
func testReplacedState(t *testing.T, e *env) {
	p, bucket := e.plugin(t, nil)
	s := store(t, p, "g")
	id := writeSnapshot(t, s, 1, 5, []byte("the original state"))
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	other := enc.EncodeAll([]byte("the replaced state"), nil)
	key := "node/g/" + id + "/" + stateObject
	if len(other) != len(e.get(t, bucket, key)) {
		t.Fatalf("replacement is %d bytes, original %d", len(other), len(e.get(t, bucket, key)))
	}
	e.put(t, bucket, key, other)
	_, err := readSnapshot(s, id)
	if !errors.Is(err, ErrSnapshotCorrupt) || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("reading a replaced state: %v, want a SHA-256 mismatch", err)
	}
}

// testUnusableMeta: snapshots whose meta does not parse, or whose state is
// missing or of another size than recorded, are not listed.
func testUnusableMeta(t *testing.T, e *env) {
	p, bucket := e.plugin(t, map[string]any{"retain": 5})
	s := store(t, p, "g")
	good := writeSnapshot(t, s, 1, 1, []byte("good"))
	badMeta := writeSnapshot(t, s, 1, 2, []byte("bad meta"))
	noState := writeSnapshot(t, s, 1, 3, []byte("no state"))
	resized := writeSnapshot(t, s, 1, 4, []byte("resized"))

	// A new process (no cached metas) sees the damage.
	p2 := e.pluginOn(t, bucket, map[string]any{"retain": 5})
	e.put(t, bucket, "node/g/"+badMeta+"/"+metaObject, []byte("{not json"))
	if _, err := e.srv.Client().DeleteObject(context.Background(), &s3.DeleteObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("node/g/" + noState + "/" + stateObject)}); err != nil {
		t.Fatal(err)
	}
	e.put(t, bucket, "node/g/"+resized+"/"+stateObject, []byte("0123456789abcdef"))
	s2 := store(t, p2, "g")
	if got := listIDs(t, s2); len(got) != 1 || got[0] != good {
		t.Fatalf("List = %v, want only %s", got, good)
	}
	if _, err := readSnapshot(s2, badMeta); err == nil {
		t.Fatal("a snapshot with a bad meta opened")
	}
}

// testOrphanState: a state object without meta (a process killed between
// the two) is never listed; opening the group in a new process, or the
// next snapshot, removes it.
func testOrphanState(t *testing.T, e *env) {
	p, bucket := e.plugin(t, nil)
	s := store(t, p, "g")
	keep := writeSnapshot(t, s, 1, 1, []byte("kept"))
	orphan := "1-2-1700000000000"
	e.put(t, bucket, "node/g/"+orphan+"/"+stateObject, []byte("orphan"))
	if got := listIDs(t, s); len(got) != 1 || got[0] != keep {
		t.Fatalf("List = %v, want only %s", got, keep)
	}
	store(t, e.pluginOn(t, bucket, nil), "g")
	if _, ok := e.objects(t, bucket)["node/g/"+orphan+"/"+stateObject]; ok {
		t.Fatal("opening the group in a new process left the orphan state")
	}

	e.put(t, bucket, "node/g/"+orphan+"/"+stateObject, []byte("orphan"))
	writeSnapshot(t, s, 1, 3, []byte("next"))
	if _, ok := e.objects(t, bucket)["node/g/"+orphan+"/"+stateObject]; ok {
		t.Fatal("the next snapshot's reaping left the orphan state")
	}
}

// testCancelMultipart: a cancelled snapshot whose upload had gone
// multipart leaves no object and no multipart upload.
func testCancelMultipart(t *testing.T, e *env) {
	p, bucket := e.plugin(t, map[string]any{"compression": "fastest"})
	s := store(t, p, "g")
	sink, err := s.Create(1, 9, 2, testConfiguration, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 1<<20)
	for i := range 12 { // incompressible: 12 MiB stored, 3 parts
		fillNoise(noise, uint64(i))
		if _, err := sink.Write(noise); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.uploads(t, bucket)) == 0 {
		t.Fatal("no multipart upload in progress after 12 MiB")
	}
	if err := sink.Cancel(); err != nil {
		t.Fatal(err)
	}
	if ups := e.uploads(t, bucket); len(ups) != 0 {
		t.Fatalf("uploads left after Cancel: %v", ups)
	}
	if objs := e.objects(t, bucket); len(objs) != 0 {
		t.Fatalf("objects left after Cancel: %v", objs)
	}
	if got := listIDs(t, s); len(got) != 0 {
		t.Fatalf("List = %v", got)
	}
}

func fillNoise(b []byte, seed uint64) {
	x := seed*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
}

// testNewProcess: a new plugin on the same prefix (a node that lost its
// disk) lists and reads the snapshots; a plugin on another prefix does not.
func testNewProcess(t *testing.T, e *env) {
	p, bucket := e.plugin(t, nil)
	id := writeSnapshot(t, store(t, p, "meta"), 4, 40, []byte("meta state"))
	p.Close()

	s := store(t, e.pluginOn(t, bucket, nil), "meta")
	if got := listIDs(t, s); len(got) != 1 || got[0] != id {
		t.Fatalf("List in a new process = %v, want [%s]", got, id)
	}
	if got, err := readSnapshot(s, id); err != nil || string(got) != "meta state" {
		t.Fatalf("read %q, %v", got, err)
	}
	other, err := configure(t, map[string]any{"url": "s3://" + bucket + "/other-node"})
	if err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, store(t, other, "meta")); len(got) != 0 {
		t.Fatalf("another node's prefix lists %v", got)
	}
}

// testDropGroup: DropGroup removes the group's objects, not those of
// groups whose names share a prefix.
func testDropGroup(t *testing.T, e *env) {
	p, bucket := e.plugin(t, nil)
	for _, g := range []string{"a", "ab", "a-b", "a/b"} {
		writeSnapshot(t, store(t, p, g), 1, 1, []byte(g))
	}
	if err := p.DropGroup("a"); err != nil {
		t.Fatal(err)
	}
	for key := range e.objects(t, bucket) {
		if strings.HasPrefix(key, "node/a/") {
			t.Fatalf("%s left after DropGroup", key)
		}
	}
	for _, g := range []string{"ab", "a-b", "a/b"} {
		if got := listIDs(t, store(t, p, g)); len(got) != 1 {
			t.Fatalf("group %s lists %v after dropping a", g, got)
		}
	}
	if got := listIDs(t, store(t, p, "a")); len(got) != 0 {
		t.Fatalf("dropped group lists %v", got)
	}
	if err := p.DropGroup("never-seen"); err != nil {
		t.Fatal(err)
	}
}

func testBadIDs(t *testing.T, e *env) {
	p, _ := e.plugin(t, nil)
	s := store(t, p, "g")
	for _, id := range []string{"", "..", "a/b", "../g/x"} {
		if _, _, err := s.Open(id); !errors.Is(err, ErrBadSnapshotID) {
			t.Errorf("Open(%q): %v, want ErrBadSnapshotID", id, err)
		}
	}
	if _, _, err := s.Open("1-2-3"); !errors.Is(err, ErrSnapshotNotFound) {
		t.Errorf("Open of a missing snapshot: %v, want ErrSnapshotNotFound", err)
	}
	if _, err := p.SnapshotStore(""); !errors.Is(err, ErrBadGroup) {
		t.Errorf("SnapshotStore(\"\"): %v, want ErrBadGroup", err)
	}
}

func TestConfig(t *testing.T) {
	e := newEnv(t)
	e.srv.Bucket(t, "exists")
	cases := []struct {
		cfg  map[string]any
		want string // in the error; "" for none
	}{
		{map[string]any{"url": "s3://exists/n1"}, ""},
		{map[string]any{"url": "s3://exists/n1", "retain": 5, "compression": "best", "concurrency": 3, "part_size_mb": 16}, ""},
		{map[string]any{"url": "s3://exists/n1", "region": "us-east-1", "endpoint": e.srv.Endpoint}, ""},
		{map[string]any{"url": "file://" + t.TempDir()}, ""},
		{map[string]any{}, `"url": required`},
		{map[string]any{"url": "gs://exists/n1"}, `"url"`},
		{map[string]any{"url": "s3://"}, `"url"`},
		{map[string]any{"url": "s3://missing-bucket/n1"}, `"url"`},
		{map[string]any{"url": "s3://exists/n1", "endpoint": "http://127.0.0.1:1"}, `"url"`},
		{map[string]any{"url": "s3://exists/n1", "retain": 0}, `"retain"`},
		{map[string]any{"url": "s3://exists/n1", "part_size_mb": 4}, `"part_size_mb"`},
		{map[string]any{"url": "s3://exists/n1", "concurrency": 0}, `"concurrency"`},
		{map[string]any{"url": "s3://exists/n1", "compression": "max"}, `"compression"`},
		{map[string]any{"url": "s3://exists/n1", "bucket": "x"}, `unknown config key "bucket"`},
		{map[string]any{"url": 7}, `"url"`},
	}
	for _, c := range cases {
		_, err := configure(t, c.cfg)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.cfg, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: error %v, want one containing %s", c.cfg, err, c.want)
		}
	}
	if _, err := New().SnapshotStore("g"); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("unconfigured: %v", err)
	}
}

func TestGroupKey(t *testing.T) {
	cases := map[string]string{
		"meta":          "meta",
		"stream/ORDERS": "stream%2f%4f%52%44%45%52%53",
		"a%2f":          "a%252f",
		"x.y":           "x%2ey",
	}
	for in, want := range cases {
		if got, err := groupKey(in); err != nil || got != want {
			t.Errorf("groupKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := groupKey(strings.Repeat("A", 100)); !errors.Is(err, ErrBadGroup) {
		t.Errorf("long group: %v", err)
	}
}

// TestCloseAbortsUpload: closing the plugin (the node stopping) while a
// snapshot uploads fails the snapshot and leaves no multipart upload.
func TestCloseAbortsUpload(t *testing.T) {
	e := newEnv(t)
	p, bucket := e.plugin(t, map[string]any{"compression": "fastest"})
	sink, err := store(t, p, "g").Create(1, 9, 2, testConfiguration, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 1<<20)
	for i := range 11 {
		fillNoise(noise, uint64(i))
		if _, err := sink.Write(noise); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	deadline := time.Now().Add(30 * time.Second)
	for i := 11; ; i++ {
		fillNoise(noise, uint64(i))
		_, err := sink.Write(noise)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes still succeed after the plugin closed")
		}
	}
	if err := sink.Close(); err == nil {
		t.Fatal("a snapshot completed after the plugin closed")
	}
	if ups := e.uploads(t, bucket); len(ups) != 0 {
		t.Fatalf("uploads left: %v", ups)
	}
	if objs := e.objects(t, bucket); len(objs) != 0 {
		t.Fatalf("objects left: %v", objs)
	}
}

// TestListFailsWhenS3Fails: with S3 gone, List is an error, not an empty
// list (which raft would take for a node without state).
func TestListFailsWhenS3Fails(t *testing.T) {
	e := newEnv(t)
	p, bucket := e.plugin(t, nil)
	s := store(t, p, "g")
	writeSnapshot(t, s, 1, 1, []byte("state"))
	p2 := e.pluginOn(t, bucket, nil) // no cached metas
	s2 := store(t, p2, "g")
	e.srv.Stop(t)
	if metas, err := s2.List(); err == nil {
		t.Fatalf("List with S3 down = %d snapshots, no error", len(metas))
	}
}
