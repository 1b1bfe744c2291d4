package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrMissingBinary is returned when a server binary the harness needs is
// not installed; errors.Is matches it, so that the test can tell "cannot
// run here" from a failure.
var ErrMissingBinary = errors.New("faults: binary not found")

// Binaries are the server programs the harness runs.
type Binaries struct {
	Redis    string // redis-server
	NATS     string // nats-server
	InitDB   string // PostgreSQL's initdb
	Postgres string // PostgreSQL's postgres
}

// FindBinaries looks the servers up in PATH, in /usr/sbin and, for
// PostgreSQL, in the newest /usr/lib/postgresql/*/bin. The error wraps
// ErrMissingBinary and names every one missing.
func FindBinaries() (Binaries, error) {
	var b Binaries
	var missing []string
	look := func(name string, extra ...string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, dir := range extra {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
				return p
			}
		}
		missing = append(missing, name)
		return ""
	}
	pgDirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(pgDirs, func(i, j int) bool { return pgVersion(pgDirs[i]) > pgVersion(pgDirs[j]) })
	b.Redis = look("redis-server", "/usr/sbin", "/usr/local/bin")
	b.NATS = look("nats-server", "/usr/sbin", "/usr/local/bin")
	// initdb and postgres from one installation, the newest.
	b.InitDB = look("initdb", pgDirs...)
	b.Postgres = look("postgres", pgDirs...)
	if len(missing) > 0 {
		return b, fmt.Errorf("%w: %v (install redis-server, nats-server and postgresql)", ErrMissingBinary, missing)
	}
	return b, nil
}

func pgVersion(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// proc is one server process the harness starts, kills and restarts. It
// runs in a process group of its own, so that a kill takes its children
// (PostgreSQL's backends) with it.
type proc struct {
	name string
	path string
	args []string
	env  []string
	cred *syscall.Credential
	log  string // file the output goes to, appended across restarts
	port int    // TCP port it listens on, for readiness
	// ready, when set, must also succeed once the port answers.
	ready func(ctx context.Context) error

	cmd  *exec.Cmd
	done chan struct{}
	err  error // the exit, once done is closed
}

func (p *proc) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), p.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return nil
}

// running reports whether the process has not exited.
func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to the process group and waits for the exit.
func (p *proc) kill() {
	if !p.running() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// signal sends sig to the process alone.
func (p *proc) signal(sig syscall.Signal) error {
	if !p.running() {
		return fmt.Errorf("%s is not running", p.name)
	}
	return p.cmd.Process.Signal(sig)
}

// waitExit waits up to d for the process to exit and returns its exit.
func (p *proc) waitExit(d time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		return fmt.Errorf("%s did not exit within %s", p.name, d)
	}
}

// waitPort waits until the process accepts TCP connections on its port.
func (p *proc) waitPort(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
	for {
		var dl net.Dialer
		c, err := dl.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
			if p.ready == nil {
				return nil
			}
			if err = p.ready(ctx); err == nil {
				return nil
			}
		}
		if !p.running() {
			return fmt.Errorf("%s exited (%v) before it listened on %s; see %s", p.name, p.err, addr, p.log)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not listen on %s within %s; see %s", p.name, addr, d, p.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// postgresUser returns the credential PostgreSQL runs under: the
// current user, unless that is root (which postgres refuses), then the
// "postgres" account.
func postgresUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres account: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// servers are the three servers of one run, each on a private port.
type servers struct {
	redis, nats, postgres *proc
}

func startServers(ctx context.Context, bin Binaries, dir string) (*servers, error) {
	var ports [3]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	s := &servers{}
	rdir := filepath.Join(dir, "redis")
	ndir := filepath.Join(dir, "nats")
	pdir := filepath.Join(dir, "pg")
	for _, d := range []string{rdir, ndir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// AOF with fsync every second: what the service requires in production
	// for its idempotency keys; a SIGKILL of the process loses nothing.
	s.redis = &proc{name: "redis", path: bin.Redis, port: ports[0], log: filepath.Join(dir, "redis.log"),
		args: []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(ports[0]), "--dir", rdir,
			"--save", "", "--appendonly", "yes", "--appendfsync", "everysec"}}
	s.nats = &proc{name: "nats", path: bin.NATS, port: ports[1], log: filepath.Join(dir, "nats.log"),
		args: []string{"-a", "127.0.0.1", "-p", strconv.Itoa(ports[1]), "-js", "-sd", ndir}}

	cred, err := postgresUser()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(pdir, 0o700); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(pdir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	initdb := exec.CommandContext(ctx, bin.InitDB, "-D", pdir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	s.postgres = &proc{name: "postgres", path: bin.Postgres, port: ports[2], log: filepath.Join(dir, "postgres.log"), cred: cred,
		args: []string{"-D", pdir, "-p", strconv.Itoa(ports[2]), "-k", pdir, "-c", "listen_addresses=127.0.0.1",
			"-c", "max_connections=200"}}
	// The port opens before recovery ends ("the database system is
	// starting up"): ready once a query answers.
	s.postgres.ready = func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, s.databaseURL())
		if err != nil {
			return err
		}
		defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
		return c.Ping(ctx)
	}

	for _, p := range s.all() {
		if err := p.start(); err != nil {
			s.stop()
			return nil, err
		}
	}
	for _, p := range s.all() {
		if err := p.waitPort(ctx, 30*time.Second); err != nil {
			s.stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *servers) all() []*proc { return []*proc{s.redis, s.nats, s.postgres} }

func (s *servers) stop() {
	for _, p := range s.all() {
		if p != nil {
			p.kill()
		}
	}
}

func (s *servers) redisURL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.redis.port) }
func (s *servers) natsURL() string  { return fmt.Sprintf("nats://127.0.0.1:%d", s.nats.port) }
func (s *servers) databaseURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.postgres.port)
}
