// Package npmtest owns how the mocks' conformance tests reach the real
// clients nobody here wrote, installed from npm into a testdata/npm project
// beside the test (committed package.json and package-lock.json; `make
// npm-deps` runs npm ci). It is imported only from _test.go files.
//
// Without the packages a test is skipped with the command to run — unless
// SHAKEDOWN_REQUIRE_NPM=1 (set by `make test`, hence CI), where it fails: a
// conformance test must never pass by not running.
package npmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireEnv is the environment variable that turns a missing client into
// a failure.
const RequireEnv = "SHAKEDOWN_REQUIRE_NPM"

// Dir is the testdata/npm directory beside the calling test file.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(1)
	if !ok {
		t.Fatal("npmtest: cannot locate the calling test file")
	}
	return filepath.Join(filepath.Dir(file), "testdata", "npm")
}

// Require returns the node binary when every package in pkgs is installed
// under dir/node_modules; otherwise it skips or (with RequireEnv=1) fails
// the test, saying what to run.
func Require(t testing.TB, dir string, pkgs ...string) (node string) {
	t.Helper()
	hint := "run: npm ci --prefix " + dir
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf(format+" ("+RequireEnv+"=1); "+hint, args...)
		}
		t.Skipf(format+"; "+hint, args...)
	}
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(p))); err != nil {
			missing("npm package %s is not installed in %s", p, dir)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH (%v); install Node.js", err)
	}
	return node
}
