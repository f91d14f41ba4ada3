package systemtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testnet"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// cluster is a set of node processes started from this test binary.
type cluster struct {
	t     *testing.T
	specs []nodeSpec
	procs []*exec.Cmd
	logs  []string
}

// startCluster builds the plugins and starts n nodes running groups.
func startCluster(t *testing.T, n int, groups []string) *cluster {
	badger := storetest.BuildPlugin(t, "github.com/stratadb/strata/plugins/badger/cmd/strata-plugin-badger")
	file := storetest.BuildPlugin(t, "github.com/stratadb/strata/plugins/file/cmd/strata-plugin-file")
	c := &cluster{t: t, procs: make([]*exec.Cmd, n), logs: make([]string, n)}
	peers := map[string]string{}
	dir := t.TempDir()
	for i := range n {
		spec := nodeSpec{ID: fmt.Sprintf("n%d", i+1), Raft: testnet.FreeAddr(t), HTTP: testnet.FreeAddr(t), Groups: groups,
			DataDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)), Badger: badger, File: file, Peers: peers}
		peers[spec.ID] = spec.Raft
		c.specs = append(c.specs, spec)
		c.logs[i] = filepath.Join(dir, spec.ID+".log")
	}
	for i := range n {
		c.start(i)
	}
	t.Cleanup(c.stopAll)
	return c
}

// start starts node i as its own process group, so kill takes its plugins
// with it.
func (c *cluster) start(i int) {
	spec, _ := json.Marshal(c.specs[i])
	logf, err := os.OpenFile(c.logs[i], os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeEnv+"="+string(spec))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.procs[i] = cmd
	go func() { _ = cmd.Wait(); logf.Close() }()
}

// kill9 kills node i and its plugin processes with SIGKILL.
func (c *cluster) kill9(i int) {
	p := c.procs[i]
	c.t.Logf("kill -9 node %s (pid %d) and its plugins", c.specs[i].ID, p.Process.Pid)
	_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
	c.procs[i] = nil
}

func (c *cluster) stopAll() {
	for i, p := range c.procs {
		if p != nil {
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		}
		if c.t.Failed() {
			b, _ := os.ReadFile(c.logs[i])
			c.t.Logf("--- node %s log (tail) ---\n%s", c.specs[i].ID, tail(string(b), 4000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func (c *cluster) getJSON(i int, path string, v any) error {
	resp, err := httpClient.Get("http://" + c.specs[i].HTTP + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// leader returns the index of a running node that leads group, or -1.
func (c *cluster) leader(group string) int {
	for i, p := range c.procs {
		if p == nil {
			continue
		}
		var r struct{ Leader bool }
		if c.getJSON(i, "/leader?group="+group, &r) == nil && r.Leader {
			return i
		}
	}
	return -1
}

// apply asks node i to apply ids [from, from+count) and returns the acked.
func (c *cluster) apply(i int, group string, from uint64, count int) ([]uint64, error) {
	url := fmt.Sprintf("http://%s/apply?group=%s&from=%d&count=%d", c.specs[i].HTTP, group, from, count)
	resp, err := httpClient.Post(url, "text/plain", strings.NewReader(""))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("apply: %s", resp.Status)
	}
	var r struct{ Acked []uint64 }
	err = json.NewDecoder(resp.Body).Decode(&r)
	return r.Acked, err
}

// ids returns the ids node i has applied to group.
func (c *cluster) ids(i int, group string) (map[uint64]bool, error) {
	var r struct{ IDs []uint64 }
	if err := c.getJSON(i, "/ids?group="+group, &r); err != nil {
		return nil, err
	}
	set := make(map[uint64]bool, len(r.IDs))
	for _, id := range r.IDs {
		set[id] = true
	}
	return set, nil
}
