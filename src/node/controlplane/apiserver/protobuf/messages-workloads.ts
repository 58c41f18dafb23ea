/**
 * Messages of the workload and policy groups: apps/v1, batch/v1, policy/v1 (and v1beta1's
 * Eviction, which has the same layout), autoscaling/v1 Scale and coordination.k8s.io/v1
 * Lease, from their generated.proto files. Notation: schema.ts.
 */
import type { MessageTable } from './schema.js';

export const WORKLOAD_MESSAGES: MessageTable = {
  // --- apps/v1 ------------------------------------------------------------------------------
  Deployment: `
    1 metadata ObjectMeta
    2 spec DeploymentSpec
    3 status DeploymentStatus
  `,
  DeploymentSpec: `
    1 replicas int32?
    2 selector LabelSelector
    3 template PodTemplateSpec
    4 strategy DeploymentStrategy
    5 minReadySeconds int32
    6 revisionHistoryLimit int32?
    7 paused bool
    9 progressDeadlineSeconds int32?
  `,
  DeploymentStrategy: `
    1 type string
    2 rollingUpdate RollingUpdateDeployment
  `,
  RollingUpdateDeployment: `
    1 maxUnavailable IntOrString
    2 maxSurge IntOrString
  `,
  DeploymentStatus: `
    1 observedGeneration int64
    2 replicas int32
    3 updatedReplicas int32
    7 readyReplicas int32
    4 availableReplicas int32
    5 unavailableReplicas int32
    9 terminatingReplicas int32?
    6 conditions [DeploymentCondition]
    8 collisionCount int32?
  `,
  DeploymentCondition: `
    1 type string!
    2 status string!
    6 lastUpdateTime Time
    7 lastTransitionTime Time
    4 reason string
    5 message string
  `,
  ReplicaSet: `
    1 metadata ObjectMeta
    2 spec ReplicaSetSpec
    3 status ReplicaSetStatus
  `,
  ReplicaSetSpec: `
    1 replicas int32?
    4 minReadySeconds int32
    2 selector LabelSelector
    3 template PodTemplateSpec
  `,
  ReplicaSetStatus: `
    1 replicas int32!
    2 fullyLabeledReplicas int32
    4 readyReplicas int32
    5 availableReplicas int32
    7 terminatingReplicas int32?
    3 observedGeneration int64
    6 conditions [ReplicaSetCondition]
  `,
  ReplicaSetCondition: `
    1 type string!
    2 status string!
    3 lastTransitionTime Time
    4 reason string
    5 message string
  `,
  DaemonSet: `
    1 metadata ObjectMeta
    2 spec DaemonSetSpec
    3 status DaemonSetStatus
  `,
  DaemonSetSpec: `
    1 selector LabelSelector
    2 template PodTemplateSpec
    3 updateStrategy DaemonSetUpdateStrategy
    4 minReadySeconds int32
    6 revisionHistoryLimit int32?
  `,
  DaemonSetUpdateStrategy: `
    1 type string
    2 rollingUpdate RollingUpdateDaemonSet
  `,
  RollingUpdateDaemonSet: `
    1 maxUnavailable IntOrString
    2 maxSurge IntOrString
  `,
  DaemonSetStatus: `
    1 currentNumberScheduled int32!
    2 numberMisscheduled int32!
    3 desiredNumberScheduled int32!
    4 numberReady int32!
    5 observedGeneration int64
    6 updatedNumberScheduled int32
    7 numberAvailable int32
    8 numberUnavailable int32
    9 collisionCount int32?
    10 conditions [DaemonSetCondition]
  `,
  DaemonSetCondition: `
    1 type string!
    2 status string!
    3 lastTransitionTime Time
    4 reason string
    5 message string
  `,

  // --- batch/v1 -----------------------------------------------------------------------------
  Job: `
    1 metadata ObjectMeta
    2 spec JobSpec
    3 status JobStatus
  `,
  JobSpec: `
    1 parallelism int32?
    2 completions int32?
    3 activeDeadlineSeconds int64?
    7 backoffLimit int32?
    12 backoffLimitPerIndex int32?
    13 maxFailedIndexes int32?
    4 selector LabelSelector
    5 manualSelector bool?
    6 template PodTemplateSpec
    8 ttlSecondsAfterFinished int32?
    9 completionMode string?
    10 suspend bool?
    14 podReplacementPolicy string?
    15 managedBy string?
  `,
  JobStatus: `
    1 conditions [JobCondition]
    2 startTime Time
    3 completionTime Time
    4 active int32
    5 succeeded int32
    6 failed int32
    11 terminating int32?
    7 completedIndexes string
    10 failedIndexes string?
    9 ready int32?
  `,
  JobCondition: `
    1 type string!
    2 status string!
    3 lastProbeTime Time
    4 lastTransitionTime Time
    5 reason string
    6 message string
  `,
  JobTemplateSpec: `
    1 metadata ObjectMeta
    2 spec JobSpec
  `,
  CronJob: `
    1 metadata ObjectMeta
    2 spec CronJobSpec
    3 status CronJobStatus
  `,
  CronJobSpec: `
    1 schedule string!
    8 timeZone string?
    2 startingDeadlineSeconds int64?
    3 concurrencyPolicy string
    4 suspend bool?
    5 jobTemplate JobTemplateSpec
    6 successfulJobsHistoryLimit int32?
    7 failedJobsHistoryLimit int32?
  `,
  CronJobStatus: `
    1 active [ObjectReference]
    4 lastScheduleTime Time
    5 lastSuccessfulTime Time
  `,

  // --- policy/v1 ----------------------------------------------------------------------------
  PodDisruptionBudget: `
    1 metadata ObjectMeta
    2 spec PodDisruptionBudgetSpec
    3 status PodDisruptionBudgetStatus
  `,
  PodDisruptionBudgetSpec: `
    1 minAvailable IntOrString
    2 selector LabelSelector
    3 maxUnavailable IntOrString
    4 unhealthyPodEvictionPolicy string?
  `,
  PodDisruptionBudgetStatus: `
    1 observedGeneration int64
    2 disruptedPods {Time}
    3 disruptionsAllowed int32!
    4 currentHealthy int32!
    5 desiredHealthy int32!
    6 expectedPods int32!
    7 conditions [Condition]
  `,
  Eviction: `
    1 metadata ObjectMeta
    2 deleteOptions DeleteOptions
  `,

  // --- autoscaling/v1 -----------------------------------------------------------------------
  Scale: `
    1 metadata ObjectMeta
    2 spec ScaleSpec
    3 status ScaleStatus
  `,
  ScaleSpec: `
    1 replicas int32
  `,
  ScaleStatus: `
    1 replicas int32!
    2 selector string
  `,

  // --- coordination.k8s.io/v1 ---------------------------------------------------------------
  Lease: `
    1 metadata ObjectMeta
    2 spec LeaseSpec
  `,
  LeaseSpec: `
    1 holderIdentity string?
    2 leaseDurationSeconds int32?
    3 acquireTime MicroTime
    4 renewTime MicroTime
    5 leaseTransitions int32?
    6 strategy string?
    7 preferredHolder string?
  `,
};
