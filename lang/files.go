package lang

import (
	"io"
	"os"
	"path/filepath"

	"github.com/bayesl/bayesl/stdlib/tensorio"
)

// writeFileAtomic writes a file through a temporary file in the same
// directory and renames it into place (tensorio.WriteAtomic), so an
// interrupted or failed write never leaves a half-written file behind nor
// damages an existing one. A new file gets mode 0644, readable by the
// tools a user hands it to; missing directories are created.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return tensorio.WriteAtomic(path, write)
}
