//! `DispatchGrid`: the workgroup grid that covers a number of agents, one per invocation.

/// Workgroups along x and y for one dispatch. Agent `(group.y * x + group.x) * size + local`
/// runs in each invocation; those past the agent count return at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DispatchGrid {
    /// Workgroups along x.
    pub x: u32,
    /// Workgroups along y.
    pub y: u32,
}

/// A grid that cannot be dispatched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// More workgroups than two dimensions of the device hold.
    #[error(
        "{agents} agents need {groups} workgroups of {workgroup_size}, more than {max_per_dimension}² per dispatch"
    )]
    TooManyGroups {
        /// Agents asked for.
        agents: u32,
        /// Workgroups they need.
        groups: u64,
        /// Invocations per workgroup.
        workgroup_size: u32,
        /// The device's per-dimension limit.
        max_per_dimension: u32,
    },
}

impl DispatchGrid {
    /// The smallest grid of `workgroup_size` invocations covering `agents`, spilling into y when
    /// x would exceed `max_per_dimension` workgroups.
    pub fn for_agents(
        agents: u32,
        workgroup_size: u32,
        max_per_dimension: u32,
    ) -> Result<Self, GridError> {
        assert!(workgroup_size > 0 && max_per_dimension > 0);
        let groups = u64::from(agents.div_ceil(workgroup_size));
        let max = u64::from(max_per_dimension);
        if groups > max * max {
            return Err(GridError::TooManyGroups {
                agents,
                groups,
                workgroup_size,
                max_per_dimension,
            });
        }
        let x = groups.min(max);
        let y = if x == 0 { 0 } else { groups.div_ceil(x) };
        Ok(Self {
            x: x as u32,
            y: y as u32,
        })
    }

    /// Invocations the grid launches.
    pub fn invocations(&self, workgroup_size: u32) -> u64 {
        u64::from(self.x) * u64::from(self.y) * u64::from(workgroup_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids() {
        let grid = |agents| DispatchGrid::for_agents(agents, 64, 65_535).unwrap();
        assert_eq!(grid(0), DispatchGrid { x: 0, y: 0 });
        assert_eq!(grid(1), DispatchGrid { x: 1, y: 1 });
        assert_eq!(grid(65_535 * 64), DispatchGrid { x: 65_535, y: 1 });
        assert_eq!(grid(65_535 * 64 + 1), DispatchGrid { x: 65_535, y: 2 });
        // One agent per workgroup, as the original design had it, needs y past 65,535 agents.
        assert_eq!(
            DispatchGrid::for_agents(1 << 20, 1, 65_535).unwrap(),
            DispatchGrid { x: 65_535, y: 17 }
        );
        assert!(DispatchGrid::for_agents(u32::MAX, 1, 1_000).is_err());
    }
}
