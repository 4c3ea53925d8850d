package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/argoproj/gitops-engine/pkg/health"
	jsonpatch "github.com/evanphx/json-patch"
	log "github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/argo-cd/v3/util/settings"
)

// verdict is what Argo CD makes of one object.
type verdict struct {
	Health       *health.HealthStatus   `json:"health,omitempty"`
	HealthError  string                 `json:"healthError,omitempty"`
	Actions      []appv1.ResourceAction `json:"actions"`
	ActionsError string                 `json:"actionsError,omitempty"`
	Runs         map[string]run         `json:"runs"`
}

// run is the outcome of one action, as the API server would apply it.
type run struct {
	Error string `json:"error,omitempty"`
	// Operation and Object per impacted resource; Patch is the merge patch of the source object.
	Impacted []impacted      `json:"impacted,omitempty"`
	Patch    json.RawMessage `json:"patch,omitempty"`
}

type impacted struct {
	Operation string         `json:"operation"`
	Object    map[string]any `json:"object"`
}

// loadOverrides reads resource customizations from an argocd-cm ConfigMap with Argo CD's settings
// manager, which only sees ConfigMaps labelled app.kubernetes.io/part-of=argocd.
func loadOverrides(ctx context.Context, path string) (map[string]appv1.ResourceOverride, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(raw, &cm); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cm.Namespace == "" {
		return nil, fmt.Errorf("%s: metadata.namespace is empty", path)
	}
	clientset := fake.NewClientset(&cm)
	mgr := settings.NewSettingsManager(ctx, clientset, cm.Namespace)
	overrides, err := mgr.GetResourceOverrides()
	if err != nil {
		return nil, fmt.Errorf("%s: settings manager: %w", path, err)
	}
	return overrides, nil
}

func evalCommand(args []string) error {
	flags := flag.NewFlagSet("eval", flag.ContinueOnError)
	cmPath := flags.String("cm", "", "argocd-cm ConfigMap (YAML)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *cmPath == "" {
		return errors.New("eval: -cm is required")
	}
	log.SetLevel(log.WarnLevel)
	log.SetOutput(os.Stderr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	overrides, err := loadOverrides(ctx, *cmPath)
	if err != nil {
		return err
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	objects, err := decodeObjects(input)
	if err != nil {
		return err
	}
	verdicts := make([]verdict, 0, len(objects))
	for _, object := range objects {
		verdicts = append(verdicts, evaluate(overrides, &unstructured.Unstructured{Object: object}))
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(verdicts)
}

func evaluate(overrides map[string]appv1.ResourceOverride, obj *unstructured.Unstructured) verdict {
	v := verdict{Actions: []appv1.ResourceAction{}, Runs: map[string]run{}}
	// The application controller: gitops-engine health with Argo CD's Lua overrides.
	status, err := health.GetResourceHealth(obj.DeepCopy(), lua.ResourceHealthOverrides(overrides))
	if err != nil {
		v.HealthError = err.Error()
	} else {
		v.Health = status
	}
	// The API server: ListResourceActions.
	vm := lua.VM{ResourceOverrides: overrides}
	scripts, err := vm.GetResourceActionDiscovery(obj)
	if err == nil && len(scripts) > 0 {
		v.Actions, err = vm.ExecuteResourceActionDiscovery(obj.DeepCopy(), scripts)
	}
	if err != nil {
		v.ActionsError = err.Error()
		return v
	}
	// The API server: RunResourceActionV2, for every discovered action (enabled or not: the server
	// itself does not refuse a disabled one).
	for _, action := range v.Actions {
		v.Runs[action.Name] = runAction(vm, obj, action.Name)
	}
	return v
}

func runAction(vm lua.VM, obj *unstructured.Unstructured, name string) run {
	live := obj.DeepCopy()
	liveBytes, err := json.Marshal(live)
	if err != nil {
		return run{Error: err.Error()}
	}
	definition, err := vm.GetResourceAction(live, name)
	if err != nil {
		return run{Error: fmt.Sprintf("error getting Lua resource action: %v", err)}
	}
	results, err := vm.ExecuteResourceAction(live, definition.ActionLua, nil)
	if err != nil {
		return run{Error: fmt.Sprintf("error executing Lua resource action: %v", err)}
	}
	r := run{}
	for _, result := range results {
		r.Impacted = append(r.Impacted, impacted{Operation: string(result.K8SOperation), Object: result.UnstructuredObj.Object})
		if result.K8SOperation != lua.PatchOperation {
			continue
		}
		newBytes, err := json.Marshal(result.UnstructuredObj)
		if err != nil {
			return run{Error: err.Error()}
		}
		patch, err := jsonpatch.CreateMergePatch(liveBytes, newBytes)
		if err != nil {
			return run{Error: fmt.Sprintf("error calculating merge patch: %v", err)}
		}
		r.Patch = patch
	}
	return r
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
