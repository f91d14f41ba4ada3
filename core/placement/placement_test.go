package placement

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func srv(name string, load int, tags ...string) Server {
	return Server{Name: name, Tags: tags, Replicas: load}
}

func offline(s Server) Server {
	s.Offline = true
	return s
}

func TestPick(t *testing.T) {
	threeZones := []Server{
		srv("a1", 0, "az:a"), srv("a2", 0, "az:a"), srv("a3", 1, "az:a"),
		srv("b1", 5, "az:b"), srv("b2", 6, "az:b"),
		srv("c1", 3, "az:c"), srv("c2", 2, "az:c"),
	}
	cases := []struct {
		name    string
		servers []Server
		req     Request
		want    []string
	}{
		{"one replica least loaded", threeZones, Request{Replicas: 1}, []string{"a1"}},
		{"zones spread despite load", threeZones, Request{Replicas: 3}, []string{"a1", "c2", "b1"}},
		{"five over three zones", threeZones, Request{Replicas: 5}, []string{"a1", "c2", "b1", "a2", "c1"}},
		{"load ordering without zones", []Server{
			srv("s1", 4), srv("s2", 1), srv("s3", 3), srv("s4", 0), srv("s5", 2),
		}, Request{Replicas: 3}, []string{"s4", "s2", "s5"}},
		{"ties broken by name", []Server{
			srv("z", 1), srv("y", 1), srv("x", 1), srv("w", 1),
		}, Request{Replicas: 3}, []string{"w", "x", "y"}},
		{"no zone is one group", []Server{
			srv("n1", 0), srv("n2", 0), srv("n3", 0), srv("a1", 9, "az:a"),
		}, Request{Replicas: 3}, []string{"n1", "a1", "n2"}},
		{"tags narrow", []Server{
			srv("a1", 0, "az:a"), srv("a2", 3, "az:a", "ssd"),
			srv("b1", 0, "az:b", "ssd"), srv("c1", 0, "az:c", "ssd", "big"),
			srv("c2", 0, "az:c"),
		}, Request{Replicas: 3, Tags: []string{"ssd"}}, []string{"b1", "c1", "a2"}},
		{"multiple tags all required", []Server{
			srv("a1", 0, "ssd"), srv("a2", 0, "big"), srv("a3", 5, "ssd", "big"),
		}, Request{Replicas: 1, Tags: []string{"ssd", "big"}}, []string{"a3"}},
		{"exclude", threeZones, Request{Replicas: 3, Exclude: []string{"a1", "c2"}}, []string{"a2", "c1", "b1"}},
		{"offline skipped", []Server{
			offline(srv("a1", 0, "az:a")), srv("a2", 7, "az:a"),
			srv("b1", 0, "az:b"), offline(srv("c1", 0, "az:c")), srv("c2", 1, "az:c"),
		}, Request{Replicas: 3}, []string{"b1", "c2", "a2"}},
		{"custom zone prefix", []Server{
			srv("r1", 0, "rack:1", "az:a"), srv("r2", 1, "rack:1", "az:b"), srv("r3", 2, "rack:2", "az:a"),
		}, Request{Replicas: 3, ZonePrefix: "rack:"}, []string{"r1", "r3", "r2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Pick(tc.servers, tc.req)
			if err != nil {
				t.Fatalf("Pick: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Pick = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPickZoneCounts(t *testing.T) {
	var servers []Server
	for _, z := range []string{"a", "b", "c"} {
		for i := range 4 {
			servers = append(servers, srv(z+string(rune('0'+i)), i, "az:"+z))
		}
	}
	for _, tc := range []struct {
		replicas int
		max      int
	}{{1, 1}, {3, 1}, {5, 2}} {
		got, err := Pick(servers, Request{Replicas: tc.replicas})
		if err != nil {
			t.Fatal(err)
		}
		perZone := map[byte]int{}
		for _, n := range got {
			perZone[n[0]]++
		}
		for z, n := range perZone {
			if n > tc.max {
				t.Fatalf("replicas=%d: zone %c holds %d (%v), max %d", tc.replicas, z, n, got, tc.max)
			}
		}
		if len(got) != tc.replicas {
			t.Fatalf("got %d servers, want %d", len(got), tc.replicas)
		}
	}
}

func TestPickErrors(t *testing.T) {
	two := []Server{srv("a", 0, "ssd"), srv("b", 0, "ssd"), srv("c", 0)}
	cases := []struct {
		name    string
		servers []Server
		req     Request
		want    error
		msg     string
	}{
		{"even", two, Request{Replicas: 2}, ErrBadReplicas, "replicas must be 1, 3 or 5, got 2"},
		{"zero", two, Request{}, ErrBadReplicas, "got 0"},
		{"seven", two, Request{Replicas: 7}, ErrBadReplicas, "got 7"},
		{"negative", two, Request{Replicas: -1}, ErrBadReplicas, "got -1"},
		{"too few with tags", two, Request{Replicas: 3, Tags: []string{"ssd"}}, ErrTooFewServers,
			"need 3 servers with tags [ssd], 2 qualify"},
		{"too few", two, Request{Replicas: 5}, ErrTooFewServers, "need 5 servers, 3 qualify"},
		{"too few after exclude", two, Request{Replicas: 3, Exclude: []string{"c"}}, ErrTooFewServers, "2 qualify"},
		{"too few offline", []Server{offline(srv("a", 0)), srv("b", 0), srv("c", 0)},
			Request{Replicas: 3}, ErrTooFewServers, "need 3 servers, 2 qualify"},
		{"no servers", nil, Request{Replicas: 1}, ErrTooFewServers, "need 1 server, 0 qualify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Pick(tc.servers, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Pick = %v, %v; want %v", got, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

func TestPickDeterministic(t *testing.T) {
	var servers []Server
	for i := range 20 {
		z := "az:" + string(rune('a'+i%4))
		servers = append(servers, srv(string(rune('A'+i)), i%3, z))
	}
	servers = append(servers, srv("nz1", 0), srv("nz2", 1))
	for _, n := range []int{1, 3, 5} {
		want, err := Pick(servers, Request{Replicas: n})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, uint64(n)))
		for range 50 {
			shuffled := slices.Clone(servers)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got, err := Pick(shuffled, Request{Replicas: n})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("replicas=%d: shuffled input gave %v, want %v", n, got, want)
			}
		}
	}
}

func TestPickDoesNotMutateInput(t *testing.T) {
	servers := []Server{srv("b", 2, "az:b"), srv("a", 1, "az:a"), srv("c", 0, "az:a")}
	orig := slices.Clone(servers)
	if _, err := Pick(servers, Request{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	for i := range servers {
		if servers[i].Name != orig[i].Name || servers[i].Replicas != orig[i].Replicas {
			t.Fatalf("input reordered: %v, was %v", servers, orig)
		}
	}
}

func TestReplace(t *testing.T) {
	servers := []Server{
		srv("a1", 5, "az:a"), srv("a2", 0, "az:a"),
		srv("b1", 5, "az:b"), srv("b2", 1, "az:b"),
		srv("c1", 5, "az:c"), srv("c2", 3, "az:c"), srv("c3", 3, "az:c"),
		srv("d1", 9, "az:d", "ssd"),
	}
	current := []string{"a1", "b1", "c1"}
	cases := []struct {
		name    string
		servers []Server
		current []string
		remove  string
		req     Request
		want    string
	}{
		{"new zone over less loaded used zone", servers, current, "c1", Request{}, "c2"},
		{"least loaded among unused zones", append(slices.Clone(servers), srv("e1", 2, "az:e")), current, "c1", Request{}, "e1"},
		{"unused zone beats lighter used zone", servers, current, "a1", Request{}, "a2"},
		{"tags narrow", servers, current, "a1", Request{Tags: []string{"ssd"}}, "d1"},
		{"exclude", servers, current, "c1", Request{Exclude: []string{"c2"}}, "c3"},
		{"offline skipped", append([]Server{offline(srv("e1", 0, "az:e"))}, servers...), current, "c1", Request{}, "c2"},
		{"falls back to least loaded used zone", servers[:6], current, "c1", Request{Exclude: []string{"c2"}}, "a2"},
		{"ties broken by name", []Server{srv("p1", 0), srv("p2", 0), srv("z", 1), srv("y", 1), srv("x", 1)},
			[]string{"p1", "p2", "x"}, "x", Request{}, "y"},
		{"zoned candidate beats no-zone group of peers", []Server{srv("p1", 0), srv("p2", 0), srv("p3", 0), srv("n", 0), srv("a", 4, "az:a")},
			[]string{"p1", "p2", "p3"}, "p3", Request{}, "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Replace(tc.servers, tc.current, tc.remove, tc.req)
			if err != nil {
				t.Fatalf("Replace: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Replace = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReplaceErrors(t *testing.T) {
	servers := []Server{srv("a", 0, "az:a"), srv("b", 0, "az:b"), srv("c", 0, "az:c"), offline(srv("d", 0, "az:d"))}
	current := []string{"a", "b", "c"}
	if _, err := Replace(servers, current, "x", Request{}); !errors.Is(err, ErrNotPeer) {
		t.Fatalf("remove non-peer: err = %v, want ErrNotPeer", err)
	}
	_, err := Replace(servers, current, "a", Request{})
	if !errors.Is(err, ErrTooFewServers) || !strings.Contains(err.Error(), "need 1 server, 0 qualify") {
		t.Fatalf("no candidates: err = %v", err)
	}
	_, err = Replace(append(servers, srv("e", 0)), current, "a", Request{Tags: []string{"ssd"}})
	if !errors.Is(err, ErrTooFewServers) || !strings.Contains(err.Error(), "with tags [ssd], 0 qualify") {
		t.Fatalf("tags: err = %v", err)
	}
}

func TestResize(t *testing.T) {
	servers := []Server{
		{Name: "n1", Tags: []string{"az:a"}, Replicas: 1},
		{Name: "n2", Tags: []string{"az:a"}},
		{Name: "n3", Tags: []string{"az:b"}, Replicas: 4},
		{Name: "n4", Tags: []string{"az:c"}, Replicas: 2},
		{Name: "n5", Tags: []string{"az:b"}, Replicas: 3},
	}
	grown, err := Resize(servers, []string{"n1"}, Request{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	// n1 keeps its place; az:b and az:c are unused, least loaded first.
	if want := []string{"n1", "n4", "n5"}; !slices.Equal(grown, want) {
		t.Fatalf("grow = %v, want %v", grown, want)
	}
	shrunk, err := Resize(servers, []string{"n4", "n1", "n5"}, Request{Replicas: 1})
	if err != nil || !slices.Equal(shrunk, []string{"n4"}) {
		t.Fatalf("shrink = %v, %v", shrunk, err)
	}
	if _, err := Resize(servers, []string{"n1"}, Request{Replicas: 2}); !errors.Is(err, ErrBadReplicas) {
		t.Fatalf("even replicas: %v", err)
	}
	if _, err := Resize(servers[:2], []string{"n1"}, Request{Replicas: 3}); !errors.Is(err, ErrTooFewServers) {
		t.Fatalf("too few: %v", err)
	}
}
