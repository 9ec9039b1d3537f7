! Projectile with a learned drag law, in Fortran.
!
! The Fortran twin of examples/projectile (C++): a 6 mm, 0.25 g sphere launched
! through air at 90 m/s, 30 degrees, whose drag coefficient Cd(Re) comes from
! the learned surrogate examples/data/drag_cd.json (log10 Re -> log10 Cd),
! called through the maas Fortran module at every Runge-Kutta stage. Same
! physics, same integrator, same arithmetic as examples/projectile/physics.h,
! so the two trajectories agree to rounding (tests/fortran checks 1e-12).
!
!   maas_fortran_projectile MODEL.json [TRAJECTORY.txt]
!
! With a second argument it writes one line per step: t x y vx vy (17
! significant digits). Exit status 0 on success, 2 for model errors.
program projectile
  use maas
  implicit none
  integer, parameter :: dp = kind(1d0)
  real(dp), parameter :: pi = 3.14159265358979323846_dp
  ! The sphere and the fluid (physics.h Params), SI units.
  real(dp), parameter :: diameter = 6.0e-3_dp, mass = 0.25e-3_dp
  real(dp), parameter :: density = 1.204_dp, viscosity = 1.825e-5_dp
  real(dp), parameter :: gravity = 9.80665_dp
  real(dp), parameter :: speed0 = 90.0_dp, angle_deg = 30.0_dp, dt = 1.0e-3_dp
  integer, parameter :: max_steps = 1000000

  type(maas_model) :: model
  character(len=4096) :: model_path, out_path
  real(dp) :: s(4), s_prev(4), area, angle, apex, f, landing_t, landing_x
  integer :: status, n, unit, calls, in_size, out_size
  integer(8) :: t0, t1, rate
  logical :: landed, write_out

  if (command_argument_count() < 1) then
    print '(a)', "usage: maas_fortran_projectile MODEL.json [TRAJECTORY.txt]"
    stop 2
  end if
  call get_command_argument(1, model_path)
  write_out = command_argument_count() >= 2
  if (write_out) call get_command_argument(2, out_path)

  status = model%load_local(trim(model_path))
  if (status /= MAAS_OK) then
    print '(4a)', "projectile: ", maas_status_name(status), ": ", maas_last_error()
    stop 2
  end if
  status = model%input_size(in_size)
  if (status == MAAS_OK) status = model%output_size(out_size)
  if (status /= MAAS_OK .or. in_size /= 1 .or. out_size /= 1) then
    print '(a)', "projectile: the drag model must map 1 value to 1 value"
    stop 2
  end if

  area = 0.25_dp * pi * diameter * diameter
  angle = angle_deg * pi / 180.0_dp
  s = [0.0_dp, 0.0_dp, speed0 * cos(angle), speed0 * sin(angle)]
  apex = s(2)
  calls = 0
  landed = .false.
  if (write_out) then
    open(newunit=unit, file=trim(out_path), status="replace", action="write")
    write(unit, '(5es25.16e3)') 0.0_dp, s
  end if

  call system_clock(t0, rate)
  do n = 1, max_steps
    s_prev = s
    call rk4_step(s, status)
    if (status /= MAAS_OK) then
      print '(4a)', "projectile: ", maas_status_name(status), ": ", maas_last_error()
      stop 2
    end if
    apex = max(apex, s(2))
    if (write_out) write(unit, '(5es25.16e3)') real(n, dp) * dt, s
    if (s(2) < 0) then
      f = s_prev(2) / (s_prev(2) - s(2))
      landing_t = real(n - 1, dp) * dt + f * dt
      landing_x = s_prev(1) + f * (s(1) - s_prev(1))
      landed = .true.
      exit
    end if
  end do
  call system_clock(t1)
  if (write_out) close(unit)
  call model%free()

  if (.not. landed) then
    print '(a)', "projectile: the sphere did not land"
    stop 2
  end if
  print '(a)', "maas Fortran projectile example: drag model via the maas Fortran module"
  print '(a, i0, a, f0.3, a)', "steps: ", n, ", flight time ", landing_t, " s"
  print '(a, f0.4, a, f0.4, a)', "range: ", landing_x, " m, apex ", apex, " m"
  print '(a, i0, a, i0, a)', "predict calls: ", calls, ", mean ", &
      nint(real(t1 - t0, dp) / real(rate, dp) * 1.0e9_dp / real(calls, dp)), &
      " ns per RK4 stage (predict + physics)"

contains

  ! Cd at Reynolds number re: 10**model(log10(re)), one predict call.
  function drag_cd(re, status) result(cd)
    real(dp), intent(in) :: re
    integer, intent(out) :: status
    real(dp) :: cd, x(1, 1), y(1, 1)
    x(1, 1) = log10(re)
    y(1, 1) = 0
    status = model%predict(x, y)
    calls = calls + 1
    cd = 10.0_dp ** y(1, 1)
  end function drag_cd

  ! d/dt of the state (x, y, vx, vy): physics.h Rhs().
  function rhs(st, status) result(rate)
    real(dp), intent(in) :: st(4)
    integer, intent(out) :: status
    real(dp) :: rate(4), speed, re, cd, drag_per_speed
    status = MAAS_OK
    speed = hypot(st(3), st(4))
    drag_per_speed = 0
    if (speed > 0) then
      re = density * speed * diameter / viscosity
      cd = drag_cd(re, status)
      if (status /= MAAS_OK) return
      drag_per_speed = 0.5_dp * density * speed * area * cd / mass
    end if
    rate(1) = st(3)
    rate(2) = st(4)
    rate(3) = -drag_per_speed * st(3)
    rate(4) = -drag_per_speed * st(4) - gravity
  end function rhs

  ! Classical RK4 step of dt: physics.h Rk4Step().
  subroutine rk4_step(st, status)
    real(dp), intent(inout) :: st(4)
    integer, intent(out) :: status
    real(dp) :: a(4), b(4), c(4), e(4), h
    a = rhs(st, status)
    if (status /= MAAS_OK) return
    b = rhs(st + 0.5_dp * dt * a, status)
    if (status /= MAAS_OK) return
    c = rhs(st + 0.5_dp * dt * b, status)
    if (status /= MAAS_OK) return
    e = rhs(st + dt * c, status)
    if (status /= MAAS_OK) return
    h = dt / 6.0_dp
    st = st + h * (a + 2 * b + 2 * c + e)
  end subroutine rk4_step

end program projectile
