// Package cgroup reads the memory limit the kernel puts on this process
// through its control group (a container's memory limit), in cgroup v2's
// unified hierarchy or cgroup v1's memory controller.
package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// unlimited is where cgroup v1 reports "no limit" (a page-rounded
// MaxInt64); anything this high is no limit either.
const unlimited = 1 << 62

// MemoryLimit is the tightest memory limit on the process whose
// /proc/PID/cgroup is self, under the cgroup filesystem mounted at root
// (/sys/fs/cgroup): its own group's and every ancestor's, as the kernel
// enforces the lowest of them. ok is false when no group sets one.
func MemoryLimit(root string, self []byte) (limit int64, ok bool, err error) {
	v1, v2, err := groups(self)
	if err != nil {
		return 0, false, err
	}
	// The memory controller is in v1 when a v1 line names it; the
	// unified line of a hybrid system then carries no memory limits.
	if v1 != "" {
		return tightest(filepath.Join(root, "memory"), v1, "memory.limit_in_bytes")
	}
	if v2 != "" {
		return tightest(root, v2, "memory.max")
	}
	return 0, false, nil
}

// Self is MemoryLimit of this process on this machine.
func Self() (limit int64, ok bool, err error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil // not Linux, or no /proc: no cgroups to read
	}
	if err != nil {
		return 0, false, err
	}
	return MemoryLimit("/sys/fs/cgroup", b)
}

// groups finds the process's group in the v1 memory hierarchy and in the
// unified one in /proc/PID/cgroup lines (ID:controllers:path).
func groups(self []byte) (v1, v2 string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(self))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		id, rest, ok1 := strings.Cut(line, ":")
		ctrls, p, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || !strings.HasPrefix(p, "/") {
			return "", "", errors.New("cgroup: not a /proc/self/cgroup line: " + strconv.Quote(line))
		}
		switch {
		case id == "0" && ctrls == "":
			v2 = p
		case containsWord(ctrls, "memory"):
			v1 = p
		}
	}
	return v1, v2, sc.Err()
}

func containsWord(list, w string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == w {
			return true
		}
	}
	return false
}

// tightest reads file in the group at p under root and in each ancestor
// up to root itself, and returns the lowest limit set. A group that is
// not there is skipped: in a container, root is often the container's
// own group while the path names it as the host sees it.
func tightest(root, p, file string) (limit int64, ok bool, err error) {
	for p = path.Clean(p); ; p = path.Dir(p) {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p), file))
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return 0, false, err
		default:
			s := strings.TrimSpace(string(b))
			if s != "max" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return 0, false, errors.New("cgroup: " + filepath.Join(root, p, file) + ": not a byte count: " + strconv.Quote(s))
				}
				if n < unlimited && (!ok || n < limit) {
					limit, ok = n, true
				}
			}
		}
		if p == "/" {
			return limit, ok, nil
		}
	}
}
