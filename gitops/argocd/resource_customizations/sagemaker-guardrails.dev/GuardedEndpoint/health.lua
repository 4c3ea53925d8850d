-- Argo CD health check for sagemaker-guardrails.dev/GuardedEndpoint.
--
-- The operator writes kstatus conditions (Ready, Reconciling, Stalled) and status.observedGeneration:
--   status behind metadata.generation -> Progressing (the operator has not seen the change yet)
--   Stalled=True                      -> Degraded   (RolledBack, InvalidSpec, EndpointFailed,
--                                                    UpdateRollbackFailed, AccessDenied, ...)
--   Reconciling=True                  -> Progressing (creating, deploying, baking, waiting)
--   Ready=True                        -> Healthy
-- A rollback is Degraded on purpose: SageMaker serves the previous revision, not what Git says.
local hs = { status = "Progressing", message = "Waiting for the sagemaker-guardrails operator" }

local function condition(status, kind)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  local reason = c.reason or ""
  local message = c.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  if message ~= "" then
    return message
  end
  if reason ~= "" then
    return reason
  end
  return fallback
end

if obj.status == nil then
  return hs
end
local status = obj.status

local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

local reconciling = condition(status, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling, "Reconciling")
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end
if ready ~= nil then
  hs.message = describe(ready, hs.message)
end
return hs
