package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Owner says which process runs the embedded TSDB of a state directory.
// The TSDB takes one process; a second gets an error naming the first.
type Owner struct {
	PID     int       `json:"pid"`
	URL     string    `json:"url"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// StateInUseError is returned by New when another process holds the state
// directory's embedded TSDB.
type StateInUseError struct {
	Dir   string
	Owner *Owner // nil when it left no record
}

func (e *StateInUseError) Error() string {
	if e.Owner == nil {
		return fmt.Sprintf("state directory %s is in use by another oncall process: attach to it (server.url) or give this one its own state_dir", e.Dir)
	}
	o := e.Owner
	return fmt.Sprintf("state directory %s is in use by %s (pid %d, serving %s since %s): attach to it with --server %s, or give this one its own state_dir",
		e.Dir, o.Command, o.PID, o.URL, o.Since.Local().Format("2006-01-02 15:04:05"), o.URL)
}

const ownerFile = "owner.json"

// checkTSDBFree fails with a StateInUseError when another process holds
// the lock of the TSDB in dir. It never creates the lock file, so the
// TSDB does not warn of a stale one afterwards.
func checkTSDBFree(state, dir string) error {
	f, err := os.Open(filepath.Join(dir, "lock"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			e := &StateInUseError{Dir: state}
			if o, err := ReadOwner(state); err == nil {
				e.Owner = &o
			}
			return e
		}
		return nil // a file system without locks: let the TSDB decide
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// ReadOwner reads the record of the process that runs state's TSDB.
func ReadOwner(state string) (Owner, error) {
	var o Owner
	b, err := os.ReadFile(filepath.Join(state, ownerFile))
	if err != nil {
		return o, err
	}
	return o, json.Unmarshal(b, &o)
}

// writeOwner records this process as the TSDB's owner; the returned
// function removes the record if it is still this process's.
func writeOwner(state, url, command string) (func() error, error) {
	o := Owner{PID: os.Getpid(), URL: url, Command: command, Since: time.Now().UTC()}
	b, _ := json.Marshal(o)
	path := filepath.Join(state, ownerFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return func() error {
		if cur, err := ReadOwner(state); err == nil && cur.PID == o.PID {
			return os.Remove(path)
		}
		return nil
	}, nil
}
