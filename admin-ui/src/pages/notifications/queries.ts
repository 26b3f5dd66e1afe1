import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';

/** The targets (a handful: the API answers them all at once). */
export function useTargets() {
  return useQuery({
    queryKey: ['notifications', 'targets'],
    queryFn: async () => unwrap(await api.GET('/admin/api/notifications/targets')),
  });
}

/** The event types with their severity and description; fixed for a build. */
export function useEventTypes() {
  return useQuery({
    queryKey: ['notifications', 'event-types'],
    queryFn: async () => unwrap(await api.GET('/admin/api/notifications/event-types')),
    staleTime: Infinity,
  });
}

export interface DeliveryQuery {
  targetId?: string;
  status?: 'pending' | 'delivered' | 'failed';
  eventType?: string;
  page: number;
  pageSize: number;
}

export function useDeliveries(query: DeliveryQuery) {
  return useQuery({
    queryKey: ['notifications', 'deliveries', query],
    queryFn: async () =>
      unwrap(await api.GET('/admin/api/notifications/deliveries', { params: { query } })),
  });
}
