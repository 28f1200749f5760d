package cgroup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name    string
		self    string
		files   map[string]string // under the cgroup root
		want    int64
		wantOK  bool
		wantErr string
	}{
		{name: "v2 own group", self: "0::/kubepods/pod1/c1\n",
			files: map[string]string{"kubepods/pod1/c1/memory.max": "268435456\n"}, want: 256 << 20, wantOK: true},
		{name: "v2 limit on the parent", self: "0::/kubepods/pod1/c1\n",
			files: map[string]string{"kubepods/pod1/c1/memory.max": "max\n", "kubepods/pod1/memory.max": "536870912\n"}, want: 512 << 20, wantOK: true},
		{name: "v2 the lowest of the chain", self: "0::/a/b\n",
			files: map[string]string{"a/b/memory.max": "104857600\n", "a/memory.max": "209715200\n"}, want: 100 << 20, wantOK: true},
		{name: "v2 no limit", self: "0::/a/b\n",
			files: map[string]string{"a/b/memory.max": "max\n", "a/memory.max": "max\n"}},
		{name: "v2 namespaced container", self: "0::/\n",
			files: map[string]string{"memory.max": "1073741824\n"}, want: gib, wantOK: true},
		{name: "v1 own group", self: "5:devices:/\n4:memory:/docker/abc\n0::/\n",
			files: map[string]string{"memory/docker/abc/memory.limit_in_bytes": "300000000\n"}, want: 300000000, wantOK: true},
		{name: "v1 unlimited", self: "4:memory:/process_api/d9c8\n",
			files: map[string]string{"memory/process_api/d9c8/memory.limit_in_bytes": "9223372036854771712\n", "memory/memory.limit_in_bytes": "9223372036854771712\n"}},
		{name: "v1 host path, own group mounted at the root", self: "4:memory:/docker/abc\n",
			files: map[string]string{"memory/memory.limit_in_bytes": "209715200\n"}, want: 200 << 20, wantOK: true},
		{name: "v1 controllers mounted together", self: "3:cpu,memory:/x\n",
			files: map[string]string{"memory/x/memory.limit_in_bytes": "1073741824\n"}, want: gib, wantOK: true},
		{name: "hybrid: v1 holds the memory controller", self: "4:memory:/x\n0::/x\n",
			files: map[string]string{"memory/x/memory.limit_in_bytes": "9223372036854771712\n", "x/memory.max": "1048576\n"}},
		{name: "no cgroups", self: ""},
		{name: "not a cgroup line", self: "garbage\n", wantErr: `not a /proc/self/cgroup line: "garbage"`},
		{name: "not a byte count", self: "0::/a\n", files: map[string]string{"a/memory.max": "lots\n"}, wantErr: `a/memory.max: not a byte count: "lots"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, content := range tt.files {
				f := filepath.Join(root, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, ok, err := MemoryLimit(root, []byte(tt.self))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || ok != tt.wantOK {
				t.Errorf("MemoryLimit = %d, %v, %v; want %d, %v", got, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

// This machine's own cgroup reads without error, and its limit (if any)
// is a real one.
func TestSelf(t *testing.T) {
	limit, ok, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if ok && (limit <= 0 || limit >= unlimited) {
		t.Errorf("Self = %d", limit)
	}
}

// Whatever /proc/self/cgroup says, MemoryLimit answers without a panic,
// and a limit it reports is one a group set.
func FuzzMemoryLimit(f *testing.F) {
	root := f.TempDir()
	os.MkdirAll(filepath.Join(root, "memory", "x"), 0o755)
	os.WriteFile(filepath.Join(root, "memory", "x", "memory.limit_in_bytes"), []byte("1048576\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "a"), 0o755)
	os.WriteFile(filepath.Join(root, "a", "memory.max"), []byte("max\n"), 0o644)
	for _, seed := range []string{"0::/a\n", "4:memory:/x\n0::/\n", "3:cpu,memory:/x/../x\n", "::\n", "0::/../../etc\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, self string) {
		limit, ok, err := MemoryLimit(root, []byte(self))
		if err == nil && ok && limit != 1048576 {
			t.Fatalf("%q: limit %d, no group sets it", self, limit)
		}
	})
}
