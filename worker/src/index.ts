import { AutoRouter } from 'itty-router';

const router = AutoRouter();

router.get('/api/health', () => ({ success: true, status: 'ok' }));

export default router;
