// Command pipectl makes Unix plumbing safe for shell scripts, terminal
// pipelines and CI jobs: named FIFOs, captured commands, pipelines with every
// stage's status, and lossless fan-out. See README.md and man/pipectl.1.
package main

import (
	"os"

	"github.com/pipectl/pipectl/cmd"
)

func main() {
	os.Exit(cmd.Main(os.Args))
}
