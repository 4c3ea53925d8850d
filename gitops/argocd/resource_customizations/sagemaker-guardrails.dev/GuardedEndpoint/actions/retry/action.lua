-- Sets the retry annotation to the current time: any new value makes the operator deploy the
-- rolled-back revision once more. The annotation is not in Git, so auto-sync leaves it alone.
-- Argo CD runs actions without the Lua standard library's globals: its safe subset of os (time and
-- date) comes from require("os").
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["sagemaker-guardrails.dev/retry"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
