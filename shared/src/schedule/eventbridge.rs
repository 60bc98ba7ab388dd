//! EventBridge Scheduler: one one-time `at(...)` schedule per upcoming nag, in the app's schedule
//! group, whose target sends the task to the SQS task queue. Fired schedules delete themselves.

use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::operation::create_schedule::CreateScheduleError;
use aws_sdk_scheduler::operation::delete_schedule::DeleteScheduleError;
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use chrono::{DateTime, Utc};

use super::{ScheduleError, Scheduler};
use crate::queue::TaskEnvelope;

#[derive(Clone)]
pub struct EventBridgeScheduler {
    client: Client,
    group: String,
    /// The SQS task queue's ARN.
    target_arn: String,
    /// The role EventBridge Scheduler assumes to send to the queue.
    role_arn: String,
}

fn failed(operation: &str, e: impl std::error::Error + 'static) -> ScheduleError {
    ScheduleError::Backend(format!(
        "EventBridge Scheduler {operation} failed: {}",
        crate::aws_error::chain(&e)
    ))
}

impl EventBridgeScheduler {
    pub fn new(
        client: Client,
        group: impl Into<String>,
        target_arn: impl Into<String>,
        role_arn: impl Into<String>,
    ) -> Self {
        EventBridgeScheduler {
            client,
            group: group.into(),
            target_arn: target_arn.into(),
            role_arn: role_arn.into(),
        }
    }

    /// Creates the schedule group (tests and local tooling; on AWS the template makes it).
    pub async fn create_group(&self) -> Result<(), ScheduleError> {
        match self.client.create_schedule_group().name(&self.group).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => Ok(()),
            Err(e) => Err(failed("CreateScheduleGroup", e)),
        }
    }

    fn parts(&self, task: &TaskEnvelope) -> Result<(FlexibleTimeWindow, Target), ScheduleError> {
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| failed("building the time window", e))?;
        let target = Target::builder()
            .arn(&self.target_arn)
            .role_arn(&self.role_arn)
            .input(task.to_json())
            .build()
            .map_err(|e| failed("building the target", e))?;
        Ok((window, target))
    }
}

/// EventBridge's one-time expression: `at(yyyy-mm-ddThh:mm:ss)`, here in UTC.
fn expression(at: DateTime<Utc>) -> String {
    format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"))
}

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    async fn upsert(&self, name: &str, at: DateTime<Utc>, task: &TaskEnvelope) -> Result<(), ScheduleError> {
        let (window, target) = self.parts(task)?;
        let created = self
            .client
            .create_schedule()
            .name(name)
            .group_name(&self.group)
            .schedule_expression(expression(at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window.clone())
            .target(target.clone())
            .action_after_completion(ActionAfterCompletion::Delete)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(CreateScheduleError::ConflictException(_))) => self
                .client
                .update_schedule()
                .name(name)
                .group_name(&self.group)
                .schedule_expression(expression(at))
                .schedule_expression_timezone("UTC")
                .flexible_time_window(window)
                .target(target)
                .action_after_completion(ActionAfterCompletion::Delete)
                .send()
                .await
                .map(drop)
                .map_err(|e| failed("UpdateSchedule", e)),
            Err(e) => Err(failed("CreateSchedule", e)),
        }
    }

    async fn delete(&self, name: &str) -> Result<(), ScheduleError> {
        match self
            .client
            .delete_schedule()
            .name(name)
            .group_name(&self.group)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DeleteScheduleError::ResourceNotFoundException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(failed("DeleteSchedule", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn expressions_are_one_time_at_utc_seconds() {
        let at = Utc.with_ymd_and_hms(2026, 11, 18, 10, 0, 0).unwrap();
        assert_eq!(expression(at), "at(2026-11-18T10:00:00)");
    }
}
