//! ServiceNow Table API connector (placeholder until it lands).
use super::{Connector, ConnectorError, NewTicket, TicketRef, TicketUpdate};
use crate::config::ServiceNowConfig;
use async_trait::async_trait;
pub struct ServiceNowConnector;
impl ServiceNowConnector {
    pub fn new(_c: &ServiceNowConfig) -> Result<Self, ConnectorError> {
        Err(ConnectorError::Config(
            "servicenow connector not built yet".into(),
        ))
    }
}
#[async_trait]
impl Connector for ServiceNowConnector {
    fn name(&self) -> &'static str {
        "servicenow"
    }
    async fn find_by_correlation(&self, _key: &str) -> Result<Option<TicketRef>, ConnectorError> {
        unreachable!()
    }
    async fn create(&self, _t: &NewTicket) -> Result<TicketRef, ConnectorError> {
        unreachable!()
    }
    async fn update(&self, _t: &TicketRef, _u: &TicketUpdate) -> Result<(), ConnectorError> {
        unreachable!()
    }
    async fn has_marker(&self, _t: &TicketRef, _m: &str) -> Result<Option<bool>, ConnectorError> {
        unreachable!()
    }
    async fn check(&self) -> Result<(), ConnectorError> {
        unreachable!()
    }
}
