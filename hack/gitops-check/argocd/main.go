// Command argocd-check runs Argo CD's resource customizations for GuardedEndpoints through Argo CD's
// own code, the way Argo CD runs them:
//
//   - settings: an argocd-cm ConfigMap is read by Argo CD's settings manager (util/settings), from a
//     fake Kubernetes clientset holding it, exactly as the controller and API server read theirs;
//   - health: gitops-engine's health.GetResourceHealth with util/lua's ResourceHealthOverrides, as the
//     application controller assesses a live resource;
//   - actions: util/lua's VM discovers actions (GetResourceActionDiscovery +
//     ExecuteResourceActionDiscovery) and runs one (GetResourceAction + ExecuteResourceAction), as the
//     API server does; the merge patch the API server would send is computed with the same library.
//
// Usage:
//
//	argocd-check eval -cm argocd-cm.yaml < objects.json   # JSON array in, JSON array of verdicts out
//	argocd-check test DIR...                              # health_test.yaml / action_test.yaml of a
//	                                                      # resource_customizations/<group>/<kind> folder
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "eval":
		err = evalCommand(os.Args[2:])
	case "test":
		err = testCommand(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-check:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: argocd-check eval -cm ARGOCD_CM_YAML < OBJECTS_JSON | argocd-check test DIR...")
	os.Exit(2)
}
