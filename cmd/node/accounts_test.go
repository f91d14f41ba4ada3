package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/auth"
	"github.com/stratadb/strata/internal/clustertest"
)

const clusterToken = "t0k3n-for-the-accounts-test"

// ciToken signs in APP's user ci (accountsHCL holds its hash).
const ciToken = "c1-t0ken-of-the-accounts-test-signs-in-as-ci"

// accountsCluster starts three servers with accounts APP (user app:
// ORDERS), OTHER (user other: BILLING) and the system account SYS (user
// admin). Passwords are the user names reversed; the app user's hash is
// made by `strata server passwd`.
func accountsCluster(t *testing.T) *clustertest.Cluster {
	return clustertest.Start(t, clustertest.Options{BinDir: binDir, Extra: accountsHCL(t),
		ClusterExtra: fmt.Sprintf("token = %q", clusterToken)})
}

// accountsHCL is the accounts of accountsCluster, with http_auth.
func accountsHCL(t testing.TB) string {
	cmd := exec.Command(filepath.Join(binDir, "strata"), "server", "passwd")
	cmd.Stdin = strings.NewReader("ppa\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("strata server passwd: %v", err)
	}
	appHash := strings.TrimSpace(string(out))
	if bcrypt.CompareHashAndPassword([]byte(appHash), []byte("ppa")) != nil {
		t.Fatalf("strata server passwd printed %q, not a bcrypt hash of the password", appHash)
	}
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	accounts := fmt.Sprintf(`accounts {
  APP {
    users = [{ user = "app", password = %q,
               permissions = { publish = ["ORDERS.>"], subscribe = ["ORDERS.>"], admin = ["ORDERS"] } },
             { user = "ci", token = %q, permissions = { publish = ["ORDERS.ci"], subscribe = ["ORDERS.>"] } }]
  }
  OTHER {
    users = [{ user = "other", password = %q,
               permissions = { publish = ["BILLING.>"], subscribe = ["BILLING.>"], admin = ["BILLING"] } },
             { user = "spy", password = %q, permissions = { publish = [">"], subscribe = [">"], admin = ["*"] } }]
  }
  SYS { users = [{ user = "admin", password = %q }] }
}
system_account = "SYS"
http_auth = true
`, appHash, auth.TokenHash(ciToken), hash("rehto"), hash("yps"), hash("nimda"))
	return accounts
}

// connectAs connects to the servers at addrs as user with password.
func connectAs(t *testing.T, addrs []string, user, password string) *client.Client {
	t.Helper()
	return connectWith(t, addrs, func(o *client.Options) { o.User, o.Password = user, password })
}

func wantErr(t *testing.T, what string, err, kind error, text string) {
	t.Helper()
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), text) {
		t.Errorf("%s: %v; want %v with %q", what, err, kind, text)
	}
}

// TestAccountsAndPermissions runs a cluster with accounts: a call without
// credentials or with a wrong password is refused; a user publishes,
// reads and administers only what its permissions allow, through any
// server (forwarded calls keep its identity); server commands need the
// system account; a refused call changes nothing; no password or token
// reaches a log.
func TestAccountsAndPermissions(t *testing.T) {
	needBinaries(t)
	cluster := accountsCluster(t)
	ctx := context.Background()
	addrs := cluster.Addrs()

	_, err := connectAs(t, addrs, "", "").StreamInfo(ctx, "ORDERS")
	wantErr(t, "no credentials", err, client.ErrUnauthenticated, "authentication failed")
	_, err = connectAs(t, addrs, "app", "wrong").Servers(ctx)
	wantErr(t, "wrong password", err, client.ErrUnauthenticated, "authentication failed")

	app := connectAs(t, addrs, "app", "ppa")
	if _, err := app.AddStream(ctx, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3}); err != nil {
		t.Fatalf("app creates ORDERS: %v", err)
	}
	_, err = app.AddStream(ctx, client.StreamConfig{Name: "BILLING", Subjects: []string{"BILLING.>"}})
	wantErr(t, "app creates BILLING", err, client.ErrPermissionDenied, `user "app" may not administer stream "BILLING"`)
	admin := connectAs(t, addrs, "admin", "nimda")
	if _, err := admin.StreamInfo(ctx, "APP.BILLING"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("BILLING after the refused create: %v; want not found", err)
	}
	for _, s := range cluster.Servers { // two of the three forward to the leader
		if _, err := connectAs(t, []string{s.Client}, "app", "ppa").Publish(ctx, "ORDERS.new", []byte(s.Name)); err != nil {
			t.Fatalf("app publishes through %s: %v", s.Name, err)
		}
	}
	tokenSignIn(t, cluster)
	_, err = app.Publish(ctx, "BILLING.x", nil)
	wantErr(t, "app publishes to BILLING.x", err, client.ErrPermissionDenied, `may not publish to "BILLING.x"`)
	asyncDenied(t, app)
	if _, err := app.AddConsumer(ctx, "ORDERS", client.ConsumerConfig{Durable: "WORK"}); err != nil {
		t.Fatalf("app adds a consumer: %v", err)
	}
	msgs, err := app.Fetch(ctx, "ORDERS", "WORK", client.FetchOptions{Batch: 3, Expires: 10 * time.Second})
	if err != nil || len(msgs) != 3 {
		t.Fatalf("app fetches: %d messages, %v", len(msgs), err)
	}
	_, err = app.ServerReport(ctx)
	wantErr(t, "app runs server report", err, client.ErrPermissionDenied, "needs a system account user")

	if _, err := admin.AddStream(ctx, client.StreamConfig{Name: "BILLING", Subjects: []string{"BILLING.>"}}); err != nil {
		t.Fatalf("admin creates BILLING: %v", err)
	}
	other := connectAs(t, addrs, "other", "rehto")
	if _, err := other.Publish(ctx, "BILLING.x", []byte("1")); err != nil {
		t.Fatalf("other publishes to BILLING.x: %v", err)
	}
	_, err = app.GetMsg(ctx, "BILLING", 1)
	wantErr(t, "app reads BILLING", err, client.ErrPermissionDenied, `user "app" may not read stream "BILLING"`)
	_, err = other.GetMsg(ctx, "ORDERS", 1)
	// As for any stream of that name: APP's ORDERS is not OTHER's (accountsApart).
	wantErr(t, "other reads ORDERS", err, client.ErrPermissionDenied, `user "other" may not read stream "ORDERS"`)
	list, err := other.Streams(ctx)
	if err != nil || len(list) != 1 || list[0].Config.Name != "BILLING" {
		t.Fatalf("other lists %+v, %v; want only BILLING", list, err)
	}
	if _, err := admin.ServerReport(ctx); err != nil {
		t.Fatalf("admin runs server report: %v", err)
	}
	accountsApart(t, addrs)
	if info, err := admin.StreamInfo(ctx, "APP.ORDERS"); err != nil || info.State.Msgs != 8 {
		t.Fatalf("APP.ORDERS = %+v, %v; want the 8 messages app and ci published", info, err)
	}
	if info, err := app.StreamInfo(ctx, "ORDERS"); err != nil || info.State.Msgs != 8 || info.Config.Name != "ORDERS" {
		t.Fatalf("app's ORDERS = %+v, %v; want its 8 messages, under the name app gave", info, err)
	}
	names := streamNames(t, admin)
	if want := "APP.ORDERS BILLING"; names != want {
		t.Fatalf("admin lists %q; want %q (the system account sees stored names)", names, want)
	}
	backupAcrossAccounts(t, cluster.Addrs())

	jsz := "http://" + cluster.Servers[0].HTTP + "/jsz"
	for _, c := range []struct {
		user, password string
		want           int
	}{{"", "", http.StatusUnauthorized}, {"app", "ppa", http.StatusUnauthorized}, {"admin", "nimda", http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, jsz, nil)
		if c.user != "" {
			req.SetBasicAuth(c.user, c.password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("/jsz as %q: %d, want %d", c.user, resp.StatusCode, c.want)
		}
	}

	cli := func(args ...string) (string, error) {
		out, err := exec.Command(filepath.Join(binDir, "strata"), append([]string{"-s", cluster.URL()}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := cli("--user", "app", "--password", "ppa", "stream", "info", "ORDERS"); err != nil {
		t.Fatalf("strata stream info as app: %v\n%s", err, out)
	}
	if out, err := cli("server", "report"); err == nil || !strings.Contains(out, "authentication failed") {
		t.Fatalf("strata server report without credentials: %v\n%s", err, out)
	}
	for _, s := range cluster.Servers {
		log := s.Log()
		for _, secret := range []string{"ppa", "rehto", "nimda", clusterToken, ciToken} {
			if strings.Contains(log, secret) {
				t.Errorf("%s's log holds the secret %q", s.Name, secret)
			}
		}
	}
}

// TestAccountsReloadOnHangup: a user added to a server's config file
// signs in there once the server gets SIGHUP, not before and not on a
// server that did not reload; a user removed is refused after the next.
func TestAccountsReloadOnHangup(t *testing.T) {
	needBinaries(t)
	cluster := accountsCluster(t)
	ctx := context.Background()
	n1, n2 := cluster.Servers[0], cluster.Servers[1]
	src, err := os.ReadFile(n1.Config)
	if err != nil {
		t.Fatal(err)
	}
	h, err := bcrypt.GenerateFromPassword([]byte("spo"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	withOps := strings.Replace(string(src), `SYS { users = [{ user = "admin",`,
		fmt.Sprintf(`SYS { users = [{ user = "ops", password = %q }, { user = "admin",`, h), 1)
	if withOps == string(src) {
		t.Fatal("the config has no SYS account line to edit")
	}
	rewrite := func(text string) {
		if err := os.WriteFile(n1.Config, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(s *clustertest.Server, user, pw string) error {
		_, err := connectAs(t, []string{s.Client}, user, pw).Servers(ctx)
		return err
	}
	rewrite(withOps)
	if err := signIn(n1, "ops", "spo"); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("ops before SIGHUP: %v; want refused", err)
	}
	n1.Signal(syscall.SIGHUP)
	waitFor(t, "ops to sign in on n1 after SIGHUP", func() bool { return signIn(n1, "ops", "spo") == nil })
	if err := signIn(n2, "ops", "spo"); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("ops on n2, which did not reload: %v; want refused", err)
	}
	rewrite(strings.Replace(withOps, `{ user = "admin",`, `{ user = "root",`, 1))
	n1.Signal(syscall.SIGHUP)
	waitFor(t, "admin to be refused on n1 after it left the config", func() bool {
		return errors.Is(signIn(n1, "admin", "nimda"), client.ErrUnauthenticated)
	})
}

// accountsApart: spy (account OTHER, every permission) does not see the
// stream ORDERS that app (account APP) created: not in its list, not
// found, no stream for its subjects. It creates its own ORDERS, with the
// same subjects: two streams that never meet. It sees BILLING, which a
// system user made.
func accountsApart(t *testing.T, addrs []string) {
	ctx := context.Background()
	spy := connectAs(t, addrs, "spy", "yps")
	_, err := spy.StreamInfo(ctx, "ORDERS")
	wantErr(t, "spy reads ORDERS' info", err, client.ErrStreamNotFound, "not found: ORDERS")
	_, err = spy.GetMsg(ctx, "ORDERS", 1)
	wantErr(t, "spy gets from ORDERS", err, client.ErrStreamNotFound, "not found")
	_, err = spy.Publish(ctx, "ORDERS.x", nil)
	wantErr(t, "spy publishes to ORDERS.x", err, client.ErrNoStreamForSubject, "no stream matches")
	_, err = spy.Fetch(ctx, "ORDERS", "WORK", client.FetchOptions{NoWait: true})
	wantErr(t, "spy fetches from ORDERS", err, client.ErrStreamNotFound, "not found")
	err = spy.DeleteStream(ctx, "ORDERS")
	wantErr(t, "spy deletes ORDERS", err, client.ErrStreamNotFound, "not found")
	if names := streamNames(t, spy); names != "BILLING" {
		t.Fatalf("spy lists %q; want BILLING alone", names)
	}
	if _, err := spy.Publish(ctx, "BILLING.y", nil); err != nil {
		t.Fatalf("spy publishes to BILLING (no account's): %v", err)
	}

	for _, s := range addrs { // created and used through every server: forwarded calls stay in OTHER
		spy := connectAs(t, []string{s}, "spy", "yps")
		if _, err := spy.AddStream(ctx, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3}); err != nil && !errors.Is(err, client.ErrStreamExists) {
			t.Fatalf("spy creates its own ORDERS through %s: %v", s, err)
		}
		ack, err := spy.Publish(ctx, "ORDERS.x", []byte(s))
		if err != nil || ack.Stream != "ORDERS" {
			t.Fatalf("spy publishes to its ORDERS through %s: %+v, %v", s, ack, err)
		}
	}
	info, err := spy.StreamInfo(ctx, "ORDERS")
	if err != nil || info.Config.Name != "ORDERS" || info.State.Msgs != uint64(len(addrs)) {
		t.Fatalf("spy's ORDERS = %+v, %v; want its %d messages", info, err, len(addrs))
	}
	if names := streamNames(t, spy); names != "BILLING ORDERS" {
		t.Fatalf("spy lists %q; want BILLING ORDERS", names)
	}
	if err := spy.DeleteStream(ctx, "ORDERS"); err != nil {
		t.Fatalf("spy deletes its ORDERS: %v", err)
	}
	_, err = spy.AddStream(ctx, client.StreamConfig{Name: "A.B", Subjects: []string{"SPY.>"}})
	wantErr(t, "spy creates A.B", err, client.ErrInvalid, `"A.B"`)
}

// tokenSignIn: ci signs in with its token through every server (two
// forward its publish to the leader), within its permissions; a wrong
// token is refused; the CLI takes --token.
func tokenSignIn(t *testing.T, cluster *clustertest.Cluster) {
	ctx := context.Background()
	for _, s := range cluster.Servers {
		ci := connectWith(t, []string{s.Client}, func(o *client.Options) { o.Token = ciToken })
		if ack, err := ci.Publish(ctx, "ORDERS.ci", []byte(s.Name)); err != nil || ack.Stream != "ORDERS" {
			t.Fatalf("ci publishes through %s: %+v, %v", s.Name, ack, err)
		}
		_, err := ci.Publish(ctx, "ORDERS.new", nil)
		wantErr(t, "ci publishes to ORDERS.new", err, client.ErrPermissionDenied, `user "ci" may not publish to "ORDERS.new"`)
	}
	wrong := connectWith(t, cluster.Addrs(), func(o *client.Options) { o.Token = ciToken + "x" })
	_, err := wrong.StreamInfo(ctx, "ORDERS")
	wantErr(t, "a wrong token", err, client.ErrUnauthenticated, "authentication failed")
	cmd := exec.Command(filepath.Join(binDir, "strata"), "-s", cluster.URL(), "stream", "info", "ORDERS")
	cmd.Env = append(os.Environ(), "STRATA_TOKEN="+ciToken)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ORDERS") {
		t.Fatalf("strata stream info with STRATA_TOKEN: %v\n%s", err, out)
	}
	purge := exec.Command(filepath.Join(binDir, "strata"), "-s", cluster.URL(), "--token", ciToken, "stream", "purge", "-f", "ORDERS")
	if out, err := purge.CombinedOutput(); err == nil || !strings.Contains(string(out), "may not administer") {
		t.Fatalf("strata stream purge as ci: %v\n%s", err, out)
	}
}

// backupAcrossAccounts: app backs up its ORDERS with strata-backup; spy
// restores the backup, under the name it had, into its own account.
func backupAcrossAccounts(t *testing.T, addrs []string) {
	dir := t.TempDir()
	run := func(user, password string, args ...string) {
		t.Helper()
		args = append([]string{"-s", strings.Join(addrs, ","), "--user", user, "--password", password}, args...)
		if out, err := exec.Command(filepath.Join(binDir, "strata-backup"), args...).CombinedOutput(); err != nil {
			t.Fatalf("strata-backup %v: %v\n%s", args, err, out)
		}
	}
	run("app", "ppa", "save", "--no-progress", "ORDERS", dir)
	run("spy", "yps", "restore", "--no-progress", filepath.Join(dir, "ORDERS"))
	ctx := context.Background()
	spy := connectAs(t, addrs, "spy", "yps")
	if info, err := spy.StreamInfo(ctx, "ORDERS"); err != nil || info.State.Msgs != 8 {
		t.Fatalf("spy's restored ORDERS = %+v, %v; want the 8 messages of APP.ORDERS", info, err)
	}
	if err := spy.DeleteStream(ctx, "ORDERS"); err != nil {
		t.Fatal(err)
	}
}

// streamNames lists the streams c sees, by name, space separated.
func streamNames(t *testing.T, c *client.Client) string {
	t.Helper()
	list, err := c.Streams(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range list {
		names = append(names, st.Config.Name)
	}
	return strings.Join(names, " ")
}

// asyncDenied: in one async publish stream, a message the user may not
// publish gets its own error ack naming the subject, and the messages
// around it are stored.
func asyncDenied(t *testing.T, app *client.Client) {
	ctx := context.Background()
	p, err := app.PublishAsync(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var futures []*client.AckFuture
	for _, subj := range []string{"ORDERS.async", "BILLING.async", "ORDERS.async"} {
		f, err := p.Publish(subj, []byte(subj))
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		_, err := f.Wait(ctx)
		if i == 1 {
			wantErr(t, "async publish to BILLING.async", err, client.ErrPermissionDenied, `may not publish to "BILLING.async"`)
		} else if err != nil {
			t.Fatalf("async publish %d beside a refused one: %v", i, err)
		}
	}
}
