//! The HDIS simulator (placeholder until the simulator lands).
pub async fn run(_args: &crate::cli::SimulateArgs) -> anyhow::Result<()> {
    anyhow::bail!("simulator not built yet")
}
