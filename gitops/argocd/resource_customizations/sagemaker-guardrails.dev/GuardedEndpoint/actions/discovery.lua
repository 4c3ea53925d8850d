-- Argo CD resource actions for sagemaker-guardrails.dev/GuardedEndpoint.
-- "retry" is offered when SageMaker rolled the current revision back: the operator never retries a
-- rolled-back revision by itself, only after a spec change or a new value of the retry annotation.
local actions = {}
actions["retry"] = { ["disabled"] = true }
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Stalled" and c.status == "True" and c.reason == "RolledBack" then
      actions["retry"]["disabled"] = false
    end
  end
end
return actions
