// Command kstatus-check judges GuardedEndpoints the way kstatus users and Flux do:
//
//   - kstatus: sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute (kubectl-style waiters, cli-utils
//     appliers, and every tool built on them);
//   - flux-kstatus: the same function of Flux's fork, github.com/fluxcd/cli-utils, which Flux's
//     kustomize-controller and helm-controller use for `wait: true` and health checks;
//   - flux-cel: Flux's CEL status reader (github.com/fluxcd/pkg/runtime/cel, built on
//     github.com/google/cel-go) with the healthCheckExprs of a Flux Kustomization, as the
//     kustomize-controller evaluates `spec.healthCheckExprs`.
//
// Usage:
//
//	kstatus-check eval -kustomization FILE < objects.json
//
// FILE holds Flux Kustomizations (YAML, several documents); the healthCheckExprs of the first one
// that has any are used. The objects are a JSON array; the answer is a JSON array of verdicts.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	fluxstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/pkg/apis/kustomize"
	fluxcel "github.com/fluxcd/pkg/runtime/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type judgement struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

type verdict struct {
	Kstatus     judgement `json:"kstatus"`
	FluxKstatus judgement `json:"fluxKstatus"`
	FluxCEL     judgement `json:"fluxCEL"`
}

// kustomization is the part of a Flux Kustomization this reads.
type kustomization struct {
	Kind string `json:"kind"`
	Spec struct {
		HealthCheckExprs []kustomize.CustomHealthCheck `json:"healthCheckExprs"`
	} `json:"spec"`
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "eval" {
		fmt.Fprintln(os.Stderr, "usage: kstatus-check eval -kustomization FLUX_KUSTOMIZATION_YAML < OBJECTS_JSON")
		os.Exit(2)
	}
	if err := eval(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-check:", err)
		os.Exit(1)
	}
}

func readHealthChecks(path string) ([]kustomize.CustomHealthCheck, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		var k kustomization
		if err := decoder.Decode(&k); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if k.Kind == "Kustomization" && len(k.Spec.HealthCheckExprs) > 0 {
			return k.Spec.HealthCheckExprs, nil
		}
	}
	return nil, fmt.Errorf("%s: no Kustomization with spec.healthCheckExprs", path)
}

func eval(args []string) error {
	flags := flag.NewFlagSet("eval", flag.ContinueOnError)
	path := flags.String("kustomization", "", "Flux Kustomizations (YAML) holding spec.healthCheckExprs")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("eval: -kustomization is required")
	}
	checks, err := readHealthChecks(*path)
	if err != nil {
		return err
	}
	newReader, err := fluxcel.NewStatusReader(checks)
	if err != nil {
		return fmt.Errorf("%s: healthCheckExprs: %w", *path, err)
	}
	// The generic status reader built on the expressions needs no RESTMapper nor cluster reader to
	// judge an object it is given.
	reader := newReader(nil)
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	objects, err := decodeObjects(input)
	if err != nil {
		return err
	}
	ctx := context.Background()
	verdicts := make([]verdict, 0, len(objects))
	for _, object := range objects {
		var v verdict
		if r, err := status.Compute(&unstructured.Unstructured{Object: object}); err != nil {
			v.Kstatus.Error = err.Error()
		} else {
			v.Kstatus = judgement{Status: r.Status.String(), Message: r.Message}
		}
		u := &unstructured.Unstructured{Object: object}
		if r, err := fluxstatus.Compute(u.DeepCopy()); err != nil {
			v.FluxKstatus.Error = err.Error()
		} else {
			v.FluxKstatus = judgement{Status: r.Status.String(), Message: r.Message}
		}
		if !reader.Supports(u.GroupVersionKind().GroupKind()) {
			v.FluxCEL.Error = fmt.Sprintf("no healthCheckExprs for %s", u.GroupVersionKind().GroupKind())
		} else if r, err := reader.ReadStatusForObject(ctx, nil, u.DeepCopy()); err != nil {
			v.FluxCEL.Error = err.Error()
		} else {
			v.FluxCEL = judgement{Status: r.Status.String(), Message: r.Message}
			if r.Error != nil {
				v.FluxCEL.Error = r.Error.Error()
			}
		}
		verdicts = append(verdicts, v)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(verdicts)
}

// decodeObjects reads a JSON array of objects with integers as int64, as the API machinery decodes
// objects from a cluster (encoding/json alone would make every number a float64).
func decodeObjects(input []byte) ([]map[string]any, error) {
	var items []any
	if err := utiljson.Unmarshal(input, &items); err != nil {
		return nil, fmt.Errorf("stdin: want a JSON array of objects: %w", err)
	}
	objects := make([]map[string]any, 0, len(items))
	for i, item := range items {
		object, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("stdin: item %d is not an object", i)
		}
		objects = append(objects, object)
	}
	return objects, nil
}
