package npmtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDirIsBesideTheCaller(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(wd, "testdata", "npm"), Dir(t))
}

func TestRequireFindsInstalledPackages(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "node_modules", "@scope", "pkg"), 0o755))
	if _, err := os.Stat("/usr/bin/node"); err != nil {
		t.Skip("node is not installed here")
	}
	require.NotEmpty(t, Require(t, dir, "@scope/pkg"))
}
