// Command kube-apiserver is the unmodified Kubernetes API server, built from the
// k8s.io/kubernetes Go module so the test tier runs against the real thing.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
